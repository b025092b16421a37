package catalog

import (
	"errors"
	"fmt"
	"time"

	"github.com/dynpool/dynpool/api"
	"gopkg.in/yaml.v3"
)

// ErrBrownout is wrapped by the error of [Resolution.Brownout]: the image
// is inside one of its scheduled brownout windows.
var ErrBrownout = errors.New("in a scheduled brownout")

// brownoutLayout formats a brownout instant in messages: "2026-09-01 18:00 UTC".
const brownoutLayout = "2006-01-02 15:04 UTC"

// Brownout is one scheduled window, [From, To) in UTC, during which steps
// on the image fail as if it were decommissioned, to warn of its coming
// removal, as GitHub does before it retires a hosted runner image. From is
// inside the window, To is not.
type Brownout struct {
	From, To time.Time
}

// contains reports whether now falls inside the window.
func (b Brownout) contains(now time.Time) bool {
	return !now.Before(b.From) && now.Before(b.To)
}

// Brownout returns nil unless the resolution's instant falls inside one of
// its image's brownout windows (whether the pool names the image or an
// alias that resolves to it: a brownout rehearses the decommissioning,
// which hits both). Then it returns an error wrapping [ErrBrownout] that
// names the pool, the image, the end of the window, the end-of-life day
// when there is one, and what to use instead, e.g.
//
//	pool "Deploy" uses image Ubuntu Server 18.04, which is in a scheduled brownout until 2026-09-01 18:00 UTC ahead of its decommissioning on 2026-10-13: edit the pool to use Ubuntu (default) or Ubuntu Server 22.04
func (r *Resolution) Brownout(pool string) error {
	for _, w := range r.Image.Brownouts {
		if !w.contains(r.now) {
			continue
		}
		ahead := "ahead of its decommissioning"
		if !r.Image.EndOfLifeDate.IsZero() {
			ahead += " on " + r.Image.EndOfLifeDate.Format(dateLayout)
		}
		return fmt.Errorf("pool %q uses image %s, which is %w until %s %s%s",
			pool, r.Image.Name, ErrBrownout, w.To.Format(brownoutLayout), ahead, r.fix())
	}
	return nil
}

// brownoutWarning returns the warning about the earliest brownout window
// that has not ended at the resolution's instant, and "" when there is
// none, when the image is decommissioned, or when the pool names an alias
// that will no longer resolve to the image when the window starts.
func (r *Resolution) brownoutWarning() string {
	if r.Status == api.ImageStatusDecommissioned {
		return ""
	}
	var next *Brownout
	for i, w := range r.Image.Brownouts {
		if !r.now.Before(w.To) {
			continue
		}
		if r.Alias != nil {
			if t, ok := r.Alias.Target(w.From); !ok || t.Image != r.Image.ID {
				continue
			}
		}
		if next == nil || w.From.Before(next.From) {
			next = &r.Image.Brownouts[i]
		}
	}
	if next == nil {
		return ""
	}
	return fmt.Sprintf("%s has a scheduled brownout from %s to %s, when steps on it fail%s",
		r.Image.Name, next.From.Format(brownoutLayout), next.To.Format(brownoutLayout), r.fix())
}

// parseBrownouts reads the brownouts of an image whose dates are already
// parsed: each {from, to} RFC 3339 instants, to after from, from before the
// end_of_life_date, no two windows overlapping, and none at all on an image
// without a deprecation_date.
func parseBrownouts(n *yaml.Node, img *Image, path string) ([]Brownout, error) {
	items, err := sequence(n, path+".brownouts")
	if err != nil || len(items) == 0 {
		return nil, err
	}
	if img.DeprecationDate.IsZero() {
		return nil, errAt(n, "%s.brownouts: image has no deprecation_date (brownouts warn of a coming removal)", path)
	}
	out := make([]Brownout, 0, len(items))
	for i, it := range items {
		p := fmt.Sprintf("%s.brownouts[%d]", path, i)
		m, err := mapping(it, p, p, "from", "to")
		if err != nil {
			return nil, err
		}
		var w Brownout
		if w.From, err = instant(m, "from", it, p); err != nil {
			return nil, err
		}
		if w.To, err = instant(m, "to", it, p); err != nil {
			return nil, err
		}
		if !w.To.After(w.From) {
			return nil, errAt(m["to"], "%s.to: %s is not after from %s", p, w.To.Format(time.RFC3339), w.From.Format(time.RFC3339))
		}
		if !img.EndOfLifeDate.IsZero() && !w.From.Before(img.EndOfLifeDate) {
			return nil, errAt(m["from"], "%s.from: %s is not before end_of_life_date %s (the image is decommissioned then)",
				p, w.From.Format(time.RFC3339), img.EndOfLifeDate.Format(dateLayout))
		}
		for j, o := range out {
			if w.From.Before(o.To) && o.From.Before(w.To) {
				return nil, errAt(it, "%s: %s to %s overlaps brownouts[%d] (line %d)",
					p, w.From.Format(time.RFC3339), w.To.Format(time.RFC3339), j, items[j].Line)
			}
		}
		out = append(out, w)
	}
	return out, nil
}

// instant parses the required RFC 3339 time at m[key] as UTC.
func instant(m map[string]*yaml.Node, key string, parent *yaml.Node, path string) (time.Time, error) {
	s, err := required(m, key, parent, path)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errAt(m[key], "%s.%s: %q is not a time (want RFC 3339, e.g. 2026-09-01T14:00:00Z)", path, key, s)
	}
	return t.UTC(), nil
}
