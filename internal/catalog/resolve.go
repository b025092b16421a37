package catalog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dynpool/dynpool/api"
)

// Errors of [Catalog.Resolve] and [Resolution.Decommissioned].
var (
	// ErrUnknownImage: the reference names no image and no alias.
	ErrUnknownImage = errors.New("unknown image")
	// ErrNotOffered: the image's start_date has not come, or no target of
	// the alias has begun.
	ErrNotOffered = errors.New("not offered")
	// ErrNoBuild: no build of the image is released yet.
	ErrNoBuild = errors.New("no build released")
	// ErrDecommissioned: the image has reached its end_of_life_date.
	ErrDecommissioned = errors.New("decommissioned")
)

// Resolution is what a pool's image reference means at one instant.
type Resolution struct {
	Ref   string // what the pool names: image id or alias id
	Alias *Alias // nil when Ref is an image id
	Image *Image
	Build *Build // newest released build at now; nil if none released yet
	// Status is Image.Status(now), one of the api.ImageStatus* values.
	Status string

	cat *Catalog
	now time.Time
}

// Resolve returns what ref (an image id or alias id) means at now. An
// alias resolves to its last target whose From has passed.
//
// Errors: [ErrUnknownImage] lists the known ids; [ErrNotOffered] names the
// day the image (or the alias's first target) starts. [ErrNoBuild] comes
// with a non-nil Resolution whose Build is nil, so a pool can still be
// shown. A decommissioned image resolves without error: see
// [Resolution.Decommissioned].
func (c *Catalog) Resolve(ref string, now time.Time) (*Resolution, error) {
	r := &Resolution{Ref: ref, cat: c, now: now}
	img, ok := c.Image(ref)
	if !ok {
		a, ok := c.Alias(ref)
		if !ok {
			return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownImage, ref, strings.Join(c.knownIDs(), ", "))
		}
		t, ok := a.Target(now)
		if !ok {
			return nil, fmt.Errorf("image alias %q is %w until %s", ref, ErrNotOffered, a.Targets[0].From.Format(dateLayout))
		}
		r.Alias = a
		img, _ = c.Image(t.Image) // Parse checked that every target exists.
	}
	if !img.Offered(now) {
		return nil, fmt.Errorf("image %q is %w until %s", img.ID, ErrNotOffered, img.StartDate.Format(dateLayout))
	}
	r.Image = img
	r.Status = img.Status(now)
	if b, ok := img.LatestBuild(now); ok {
		r.Build = b
	} else {
		return r, fmt.Errorf("image %q: %w yet", img.ID, ErrNoBuild)
	}
	return r, nil
}

// knownIDs returns the image ids, sorted, then the alias ids, sorted.
func (c *Catalog) knownIDs() []string {
	var images, aliases []string
	for _, img := range c.Images {
		images = append(images, img.ID)
	}
	for _, a := range c.Aliases {
		aliases = append(aliases, a.ID)
	}
	slices.Sort(images)
	slices.Sort(aliases)
	return append(images, aliases...)
}

// Warnings returns what a tenant should be told about the pool, empty when
// nothing: that a preview image may contain bugs, and, when Ref names a
// deprecated image directly (not through an alias), when it will be
// decommissioned and what to use instead; and, unless the image is
// decommissioned, the next brownout window that has not ended (for an
// alias, only one it will still resolve to the image at), e.g.
//
//	Ubuntu Server 18.04 has a scheduled brownout from 2026-09-22 14:00 UTC to 2026-09-22 18:00 UTC, when steps on it fail: edit the pool to use Ubuntu (default)
func (r *Resolution) Warnings() []string {
	out := []string{}
	switch r.Status {
	case api.ImageStatusPreview:
		out = append(out, r.Image.Name+" is in preview: it is in testing and may contain bugs.")
	case api.ImageStatusDeprecated:
		if r.Alias != nil {
			break
		}
		msg := r.Image.Name + " is deprecated"
		if !r.Image.EndOfLifeDate.IsZero() {
			msg += " and will be decommissioned on " + r.Image.EndOfLifeDate.Format(dateLayout)
		}
		out = append(out, msg+r.fix())
	}
	if msg := r.brownoutWarning(); msg != "" {
		out = append(out, msg)
	}
	return out
}

// Decommissioned returns nil unless the image is decommissioned at the
// resolution's instant; then an error wrapping [ErrDecommissioned] that
// names the pool, the image, the day and what to use instead.
func (r *Resolution) Decommissioned(pool string) error {
	if r.Status != api.ImageStatusDecommissioned {
		return nil
	}
	return fmt.Errorf("pool %q uses image %s, which was %w on %s%s",
		pool, r.Image.Name, ErrDecommissioned, r.Image.EndOfLifeDate.Format(dateLayout), r.fix())
}

// fix returns ": edit the pool to use A or B" naming an alias of the same
// OS that resolves to a usable image other than Ref's, and the newest
// usable image of the same family; "" when there is neither.
func (r *Resolution) fix() string {
	var names []string
	for _, a := range r.cat.Aliases {
		if a == r.Alias || a.OS != r.Image.OS {
			continue
		}
		if t, ok := a.Target(r.now); ok && t.Image != r.Image.ID {
			if img, _ := r.cat.Image(t.Image); r.usable(img) {
				names = append(names, a.Name)
				break
			}
		}
	}
	if img := r.newestOfFamily(); img != nil {
		names = append(names, img.Name)
	}
	if len(names) == 0 {
		return ""
	}
	return ": edit the pool to use " + strings.Join(names, " or ")
}

// usable reports whether img is offered and neither deprecated nor
// decommissioned at the resolution's instant.
func (r *Resolution) usable(img *Image) bool {
	s := img.Status(r.now)
	return img.Offered(r.now) && (s == api.ImageStatusActive || s == api.ImageStatusPreview)
}

// newestOfFamily returns the usable image of the same OS and family as
// r.Image, other than it, preferring active over preview, then the latest
// StartDate, then the later in the file; nil when none.
func (r *Resolution) newestOfFamily() *Image {
	var best *Image
	for _, img := range r.cat.Images {
		if img == r.Image || img.Family == "" || img.Family != r.Image.Family || img.OS != r.Image.OS || !r.usable(img) {
			continue
		}
		if best == nil || newer(img, best, r.now) {
			best = img
		}
	}
	return best
}

// newer reports whether a ranks at or above b (a comes later in the file):
// active before preview, then the later StartDate.
func newer(a, b *Image, now time.Time) bool {
	aActive, bActive := a.Status(now) == api.ImageStatusActive, b.Status(now) == api.ImageStatusActive
	if aActive != bActive {
		return aActive
	}
	return !a.StartDate.Before(b.StartDate)
}
