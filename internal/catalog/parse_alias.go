package catalog

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// Default numbers of worker-tools tags cached on a new worker when the
// catalog gives no cache, per OS: "the 5 newest Linux and 2 newest Windows
// tags", as DESIGN.md's glossary states.
const (
	DefaultLinuxToolsCache   = 5
	DefaultWindowsToolsCache = 2
)

// parseAliases reads the aliases; ids holds every image id (and collects
// alias ids) with its line, to refuse repeats.
func parseAliases(n *yaml.Node, c *Catalog, ids map[string]int) ([]*Alias, error) {
	items, err := sequence(n, "aliases")
	if err != nil {
		return nil, err
	}
	aliases := make([]*Alias, 0, len(items))
	for i, it := range items {
		path := fmt.Sprintf("aliases[%d]", i)
		a, err := parseAlias(it, path, c)
		if err != nil {
			return nil, err
		}
		if first, dup := ids[a.ID]; dup {
			return nil, errAt(it, "%s.id: duplicate id %q (first on line %d)", path, a.ID, first)
		}
		ids[a.ID] = it.Line
		aliases = append(aliases, a)
	}
	return aliases, nil
}

func parseAlias(n *yaml.Node, path string, c *Catalog) (*Alias, error) {
	m, err := mapping(n, path, describe(n, "alias", path), "id", "name", "os", "targets")
	if err != nil {
		return nil, err
	}
	a := &Alias{}
	if a.ID, err = required(m, "id", n, path); err != nil {
		return nil, err
	}
	if a.Name, err = required(m, "name", n, path); err != nil {
		return nil, err
	}
	if a.OS, err = parseOS(m, n, path); err != nil {
		return nil, err
	}
	items, err := sequence(m["targets"], path+".targets")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errAt(n, "%s: missing required key %q (at least one target)", path, "targets")
	}
	for i, it := range items {
		p := fmt.Sprintf("%s.targets[%d]", path, i)
		t, err := parseTarget(it, p, a, c)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			prev := a.Targets[i-1].From
			if t.From.IsZero() {
				return nil, errAt(it, "%s: missing required key %q (only the first target may have none)", p, "from")
			}
			if !t.From.After(prev) {
				return nil, errAt(it, "%s.from: %s is not after the previous target's from %s (targets overlap)",
					p, t.From.Format(dateLayout), prev.Format(dateLayout))
			}
		}
		a.Targets = append(a.Targets, t)
	}
	return a, nil
}

func parseTarget(n *yaml.Node, path string, a *Alias, c *Catalog) (AliasTarget, error) {
	m, err := mapping(n, path, path, "image", "from")
	if err != nil {
		return AliasTarget{}, err
	}
	var t AliasTarget
	if t.Image, err = required(m, "image", n, path); err != nil {
		return AliasTarget{}, err
	}
	img, ok := c.Image(t.Image)
	if !ok {
		return AliasTarget{}, errAt(m["image"], "%s.image: unknown image %q", path, t.Image)
	}
	if img.OS != a.OS {
		return AliasTarget{}, errAt(m["image"], "%s.image: image %q is %s but alias %q is %s", path, t.Image, img.OS, a.ID, a.OS)
	}
	if t.From, err = date(m["from"], path+".from"); err != nil {
		return AliasTarget{}, err
	}
	return t, nil
}

func parseWorkerTools(n *yaml.Node) (WorkerTools, error) {
	if n == nil || n.Tag == "!!null" {
		return nil, nil
	}
	m, err := mapping(n, "worker_tools", "worker_tools", OSLinux, OSWindows)
	if err != nil {
		return nil, err
	}
	defaults := map[string]int{OSLinux: DefaultLinuxToolsCache, OSWindows: DefaultWindowsToolsCache}
	wt := WorkerTools{}
	for _, osName := range []string{OSLinux, OSWindows} {
		v := m[osName]
		if v == nil {
			continue
		}
		p := "worker_tools." + osName
		im, err := mapping(v, p, p, "image", "tags", "cache")
		if err != nil {
			return nil, err
		}
		var w WorkerToolsImage
		if w.Image, err = required(im, "image", v, p); err != nil {
			return nil, err
		}
		if w.Tags, err = stringList(im["tags"], p+".tags"); err != nil {
			return nil, err
		}
		if w.Cache, err = count(im["cache"], p+".cache", defaults[osName]); err != nil {
			return nil, err
		}
		wt[osName] = w
	}
	return wt, nil
}
