package catalog

import (
	"time"

	"github.com/dynpool/dynpool/api"
)

// API returns the catalog as the body of GET /api/v1/images at now. Images
// not offered yet (before their StartDate) are left out, and so are builds
// not released yet; the order is the file's. Status is taken at now, dates
// are YYYY-MM-DD or "". An alias's ResolvesTo is the image id it resolves
// to at now, "" when it resolves to none that is offered. Slices are never
// nil, so they encode as [].
func (c *Catalog) API(now time.Time) api.ImageList {
	out := api.ImageList{Images: []api.Image{}, Aliases: []api.Alias{}}
	for _, img := range c.Images {
		if img.Offered(now) {
			out.Images = append(out.Images, img.api(now))
		}
	}
	for _, a := range c.Aliases {
		wa := api.Alias{ID: a.ID, Name: a.Name, OS: a.OS}
		// Resolve returns a Resolution alone or with ErrNoBuild: either
		// way the alias names an offered image.
		if r, _ := c.Resolve(a.ID, now); r != nil {
			wa.ResolvesTo = r.Image.ID
		}
		out.Aliases = append(out.Aliases, wa)
	}
	return out
}

func (img *Image) api(now time.Time) api.Image {
	w := api.Image{
		ID:              img.ID,
		Name:            img.Name,
		OS:              img.OS,
		Family:          img.Family,
		Status:          img.Status(now),
		StartDate:       day(img.StartDate),
		DeprecationDate: day(img.DeprecationDate),
		EndOfLifeDate:   day(img.EndOfLifeDate),
		Tools:           []api.Tool{},
		Builds:          []api.Build{},
	}
	for _, t := range img.Tools {
		w.Tools = append(w.Tools, api.Tool{Name: t.Name, Versions: append([]string{}, t.Versions...), Path: t.Path})
	}
	for _, b := range img.Builds {
		if !now.Before(b.Released) {
			w.Builds = append(w.Builds, api.Build{Version: b.Version, Released: day(b.Released)})
		}
	}
	for _, b := range img.Brownouts {
		if now.Before(b.To) {
			w.Brownouts = append(w.Brownouts, api.Brownout{From: b.From, To: b.To})
		}
	}
	return w
}

// day formats a UTC day as YYYY-MM-DD, "" for the zero time.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(dateLayout)
}
