package catalog

import (
	"fmt"
	"maps"
	"slices"
)

// WithBuild returns a new catalog in which the image imageID has a copy of
// b appended to its builds; the receiver is left unchanged, since catalogs
// are shared and read concurrently (the server swaps the new one in). The
// new catalog has its own copy of that image and of the slices and maps
// that lead to it, and shares every other image with the receiver: treat
// both as read-only. Released keeps its instant (in UTC), so a build may
// be released mid-day; [Image.LatestBuild] picks it from then on, and on a
// tie with an older build this one wins, as it comes later.
//
// Errors: [ErrUnknownImage] when no image has that id; an error wrapping
// [ErrInvalid] when b is nil, its Version is empty or already a build of
// the image, or its Released is zero.
func (c *Catalog) WithBuild(imageID string, b *Build) (*Catalog, error) {
	i := slices.IndexFunc(c.Images, func(img *Image) bool { return img.ID == imageID })
	if i < 0 {
		return nil, fmt.Errorf("add build: %w %q", ErrUnknownImage, imageID)
	}
	old := c.Images[i]
	invalid := func(why string, args ...any) error {
		return fmt.Errorf("add build to image %q: %w: %s", imageID, ErrInvalid, fmt.Sprintf(why, args...))
	}
	switch {
	case b == nil:
		return nil, invalid("no build")
	case b.Version == "":
		return nil, invalid("empty version")
	case slices.ContainsFunc(old.Builds, func(o *Build) bool { return o.Version == b.Version }):
		return nil, invalid("duplicate build version %q", b.Version)
	case b.Released.IsZero():
		return nil, invalid("build %q has no released time", b.Version)
	}
	nb := &Build{Version: b.Version, Released: b.Released.UTC(), Artifacts: maps.Clone(b.Artifacts)}
	if nb.Artifacts == nil {
		nb.Artifacts = map[string]string{}
	}
	img := *old
	img.Builds = append(slices.Clone(old.Builds), nb)
	out := &Catalog{
		Images:      slices.Clone(c.Images),
		Aliases:     slices.Clone(c.Aliases),
		WorkerTools: maps.Clone(c.WorkerTools),
	}
	out.Images[i] = &img
	return out, nil
}
