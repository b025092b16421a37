package catalog

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// parseBuilds reads the builds of the image at path; at least one is
// required and versions must not repeat.
func parseBuilds(n, image *yaml.Node, path string) ([]*Build, error) {
	items, err := sequence(n, path+".builds")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errAt(image, "%s: missing required key %q (at least one build with version and released)", path, "builds")
	}
	builds := make([]*Build, 0, len(items))
	seen := map[string]int{}
	for i, it := range items {
		p := fmt.Sprintf("%s.builds[%d]", path, i)
		b, err := parseBuild(it, p)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[b.Version]; dup {
			return nil, errAt(it, "%s.version: duplicate build version %q (first on line %d)", p, b.Version, first)
		}
		seen[b.Version] = it.Line
		builds = append(builds, b)
	}
	return builds, nil
}

func parseBuild(n *yaml.Node, path string) (*Build, error) {
	m, err := mapping(n, path, path, "version", "released", "artifacts")
	if err != nil {
		return nil, err
	}
	b := &Build{}
	if b.Version, err = required(m, "version", n, path); err != nil {
		return nil, err
	}
	if b.Released, err = date(m["released"], path+".released"); err != nil {
		return nil, err
	}
	if b.Released.IsZero() {
		return nil, errAt(n, "%s: missing required key %q", path, "released")
	}
	if b.Artifacts, err = parseArtifacts(m["artifacts"], path+".artifacts"); err != nil {
		return nil, err
	}
	return b, nil
}

// parseArtifacts reads provider -> artifact; a value is a string (docker:
// "ref") or an empty mapping (process: {}), stored as "".
func parseArtifacts(n *yaml.Node, path string) (map[string]string, error) {
	out := map[string]string{}
	if n == nil || n.Tag == "!!null" {
		return out, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, errAt(n, "%s: want a mapping of provider to artifact", path)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := path + "." + k.Value
		if _, dup := out[k.Value]; dup {
			return nil, errAt(k, "duplicate key %q in %s", k.Value, path)
		}
		switch {
		case v.Kind == yaml.MappingNode && len(v.Content) == 0:
			out[k.Value] = ""
		case v.Kind == yaml.ScalarNode && v.Tag != "!!null":
			out[k.Value] = v.Value
		default:
			return nil, errAt(v, "%s: want a string (docker: \"ref\") or {} (process: {})", p)
		}
	}
	return out, nil
}
