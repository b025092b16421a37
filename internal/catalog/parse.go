package catalog

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// Operating systems an image or alias may name.
const (
	OSLinux   = "linux"
	OSWindows = "windows"
)

// Load reads and parses the catalog file at path (see [Parse]). Errors
// name the path; a file that breaks the format gives an error wrapping
// [ErrInvalid].
func Load(path string) (*Catalog, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("load catalog %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates a catalog in the YAML format of DESIGN.md's
// "Catalog file" section: top-level keys images (at least one), aliases and
// worker_tools. Dates are YYYY-MM-DD UTC days.
//
// Every error wraps [ErrInvalid] and names the line and the key, e.g.
//
//	catalog: line 12: images[1].end_of_life_date: "2026-13-01" is not a date (want YYYY-MM-DD)
//
// It rejects unknown or repeated keys, missing id/name/os, an os other
// than linux or windows, an image without a build (each needs version and
// released), repeated image, alias or build ids, a deprecation_date after
// the end_of_life_date, bad brownouts (see [Brownout]: RFC 3339 from and
// to, to after from, from before the end_of_life_date, no overlap, only on
// an image with a deprecation_date), alias targets naming an unknown image or one of
// another OS, and alias targets whose from dates do not increase.
func Parse(data []byte) (*Catalog, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &invalidError{msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, &invalidError{msg: "empty file: at least one image is required"}
	}
	root := doc.Content[0]
	m, err := mapping(root, "catalog", "catalog", "images", "aliases", "worker_tools")
	if err != nil {
		return nil, err
	}
	c := &Catalog{}
	ids := map[string]int{} // image and alias id -> line
	if c.Images, err = parseImages(m["images"], root, ids); err != nil {
		return nil, err
	}
	if c.Aliases, err = parseAliases(m["aliases"], c, ids); err != nil {
		return nil, err
	}
	if c.WorkerTools, err = parseWorkerTools(m["worker_tools"]); err != nil {
		return nil, err
	}
	return c, nil
}

func parseImages(n, root *yaml.Node, ids map[string]int) ([]*Image, error) {
	items, err := sequence(n, "images")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errAt(root, "images: at least one image is required")
	}
	images := make([]*Image, 0, len(items))
	for i, it := range items {
		img, err := parseImage(it, fmt.Sprintf("images[%d]", i))
		if err != nil {
			return nil, err
		}
		if first, dup := ids[img.ID]; dup {
			return nil, errAt(it, "images[%d].id: duplicate image id %q (first on line %d)", i, img.ID, first)
		}
		ids[img.ID] = it.Line
		images = append(images, img)
	}
	return images, nil
}

func parseImage(n *yaml.Node, path string) (*Image, error) {
	m, err := mapping(n, path, describe(n, "image", path), "id", "name", "os", "family", "preview",
		"start_date", "deprecation_date", "end_of_life_date", "brownouts", "tools", "builds")
	if err != nil {
		return nil, err
	}
	img := &Image{}
	if img.ID, err = required(m, "id", n, path); err != nil {
		return nil, err
	}
	if img.Name, err = required(m, "name", n, path); err != nil {
		return nil, err
	}
	if img.OS, err = parseOS(m, n, path); err != nil {
		return nil, err
	}
	if img.Family, err = str(m["family"], path+".family"); err != nil {
		return nil, err
	}
	if img.Preview, err = boolean(m["preview"], path+".preview"); err != nil {
		return nil, err
	}
	if img.StartDate, err = date(m["start_date"], path+".start_date"); err != nil {
		return nil, err
	}
	if img.DeprecationDate, err = date(m["deprecation_date"], path+".deprecation_date"); err != nil {
		return nil, err
	}
	if img.EndOfLifeDate, err = date(m["end_of_life_date"], path+".end_of_life_date"); err != nil {
		return nil, err
	}
	if !img.DeprecationDate.IsZero() && !img.EndOfLifeDate.IsZero() && img.DeprecationDate.After(img.EndOfLifeDate) {
		return nil, errAt(m["deprecation_date"], "%s.deprecation_date: %s is after end_of_life_date %s",
			path, img.DeprecationDate.Format(dateLayout), img.EndOfLifeDate.Format(dateLayout))
	}
	if img.Brownouts, err = parseBrownouts(m["brownouts"], img, path); err != nil {
		return nil, err
	}
	if img.Tools, err = parseTools(m["tools"], path+".tools"); err != nil {
		return nil, err
	}
	if img.Builds, err = parseBuilds(m["builds"], n, path); err != nil {
		return nil, err
	}
	return img, nil
}

// parseOS reads the required os key of an image or alias.
func parseOS(m map[string]*yaml.Node, parent *yaml.Node, path string) (string, error) {
	s, err := required(m, "os", parent, path)
	if err != nil {
		return "", err
	}
	if s != OSLinux && s != OSWindows {
		return "", errAt(m["os"], "%s.os: %q is not linux or windows", path, s)
	}
	return s, nil
}

func parseTools(n *yaml.Node, path string) ([]Tool, error) {
	items, err := sequence(n, path)
	if err != nil {
		return nil, err
	}
	tools := make([]Tool, 0, len(items))
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		m, err := mapping(it, p, p, "name", "versions", "path")
		if err != nil {
			return nil, err
		}
		var t Tool
		if t.Name, err = required(m, "name", it, p); err != nil {
			return nil, err
		}
		if t.Versions, err = stringList(m["versions"], p+".versions"); err != nil {
			return nil, err
		}
		if len(t.Versions) == 0 {
			return nil, errAt(it, "%s: missing required key %q (use [latest] for an unversioned tool)", p, "versions")
		}
		if t.Path, err = str(m["path"], p+".path"); err != nil {
			return nil, err
		}
		tools = append(tools, t)
	}
	return tools, nil
}
