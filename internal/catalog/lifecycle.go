package catalog

import (
	"time"

	"github.com/dynpool/dynpool/api"
)

// reached reports whether the UTC day d is set and has begun at now.
func reached(d, now time.Time) bool {
	return !d.IsZero() && !now.Before(d)
}

// Status returns the image's lifecycle status at now, one of
// [api.ImageStatusPreview], [api.ImageStatusActive],
// [api.ImageStatusDeprecated] or [api.ImageStatusDecommissioned]:
// decommissioned from EndOfLifeDate, deprecated from DeprecationDate, else
// preview when Preview is set, else active.
func (img *Image) Status(now time.Time) string {
	switch {
	case reached(img.EndOfLifeDate, now):
		return api.ImageStatusDecommissioned
	case reached(img.DeprecationDate, now):
		return api.ImageStatusDeprecated
	case img.Preview:
		return api.ImageStatusPreview
	default:
		return api.ImageStatusActive
	}
}

// Offered reports whether the image may be used at now: false before its
// StartDate, true otherwise (also once decommissioned; see [Image.Status]).
func (img *Image) Offered(now time.Time) bool {
	return img.StartDate.IsZero() || !now.Before(img.StartDate)
}

// LatestBuild returns the build with the newest Released day that is not
// after now (on a tie the one later in the file wins), and false when no
// build is released yet.
func (img *Image) LatestBuild(now time.Time) (*Build, bool) {
	var best *Build
	for _, b := range img.Builds {
		if now.Before(b.Released) {
			continue
		}
		if best == nil || !b.Released.Before(best.Released) {
			best = b
		}
	}
	return best, best != nil
}

// Target returns the alias's last target whose From is not after now (a
// zero From always counts), and false when none has begun yet.
func (a *Alias) Target(now time.Time) (AliasTarget, bool) {
	var out AliasTarget
	found := false
	for _, t := range a.Targets {
		if t.From.IsZero() || !now.Before(t.From) {
			out, found = t, true
		}
	}
	return out, found
}
