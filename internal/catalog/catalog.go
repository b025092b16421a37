// Package catalog holds the worker images dynamic workers are made from:
// images with their OS, lifecycle dates, tool manifests and builds, and the
// aliases ("Ubuntu (default)") that resolve to one image at a given time.
//
// A catalog comes from the operator's YAML file (see [Parse]) or the
// built-in one ([Builtin]) that mirrors the images the hosted dynamic
// worker pools document. Status is never stored: it follows from the dates
// and the clock passed in, so a timeline plays out on its own.
package catalog

import "time"

// Catalog is a parsed, validated catalog. It is immutable once built.
type Catalog struct {
	Images      []*Image
	Aliases     []*Alias
	WorkerTools WorkerTools
}

// Image is one worker image. Zero dates are unset.
type Image struct {
	ID      string
	Name    string
	OS      string // "linux" or "windows"
	Family  string
	Preview bool
	// StartDate: not offered before this UTC day.
	StartDate time.Time
	// DeprecationDate: deprecated (usable, warns) from this UTC day.
	DeprecationDate time.Time
	// EndOfLifeDate: decommissioned (steps fail) from this UTC day.
	EndOfLifeDate time.Time
	// Brownouts: windows, in the file's order, in which steps on the image
	// fail ahead of its removal; see [Resolution.Brownout]. Only an image
	// with a DeprecationDate has any.
	Brownouts []Brownout
	Tools     []Tool
	// Builds in the order the file lists them.
	Builds []*Build
}

// Tool is one entry of a tool manifest. Path is a template in which
// {{version}} stands for each version.
type Tool struct {
	Name     string
	Versions []string
	Path     string
}

// Build is one rebuild of an image. Artifacts says, per provider name, how
// that provider makes a worker of this build: for docker an image
// reference, for process the empty string (present means supported).
type Build struct {
	Version   string
	Released  time.Time
	Artifacts map[string]string
}

// Alias is a generic image choice; the last target whose From has passed
// wins.
type Alias struct {
	ID      string
	Name    string
	OS      string
	Targets []AliasTarget
}

// AliasTarget is one dated target of an alias; a zero From means always.
type AliasTarget struct {
	Image string
	From  time.Time
}

// WorkerTools lists the execution-container images cached on new workers,
// per OS ("linux", "windows").
type WorkerTools map[string]WorkerToolsImage

// WorkerToolsImage is an image repository with its tags, newest first, and
// how many of the newest tags a new worker has cached.
type WorkerToolsImage struct {
	Image string
	Tags  []string
	Cache int
}

// CacheRefs returns the image references a new worker of os has cached:
// the Cache newest tags of os's worker-tools image, newest first, e.g.
// ["worker-tools:6.1.0-ubuntu.22.04"]; nil when the catalog names none.
func (wt WorkerTools) CacheRefs(os string) []string {
	w, ok := wt[os]
	if !ok {
		return nil
	}
	tags := w.Tags[:min(w.Cache, len(w.Tags))]
	refs := make([]string, 0, len(tags))
	for _, tag := range tags {
		refs = append(refs, w.Image+":"+tag)
	}
	return refs
}

// Image returns the image with this id, and false when there is none.
func (c *Catalog) Image(id string) (*Image, bool) {
	for _, img := range c.Images {
		if img.ID == id {
			return img, true
		}
	}
	return nil, false
}

// Alias returns the alias with this id, and false when there is none.
func (c *Catalog) Alias(id string) (*Alias, bool) {
	for _, a := range c.Aliases {
		if a.ID == id {
			return a, true
		}
	}
	return nil, false
}
