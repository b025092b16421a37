package web

import (
	"net/http"
	"net/url"

	"github.com/dynpool/dynpool/api"
)

// catalogIndex names the images and aliases of one catalog view.
type catalogIndex struct {
	list    api.ImageList
	images  map[string]api.Image
	aliases map[string]api.Alias
}

func indexCatalog(l api.ImageList) catalogIndex {
	ix := catalogIndex{list: l, images: map[string]api.Image{}, aliases: map[string]api.Alias{}}
	for _, img := range l.Images {
		ix.images[img.ID] = img
	}
	for _, a := range l.Aliases {
		ix.aliases[a.ID] = a
	}
	return ix
}

// name is the display name of an image or alias id, or the id itself.
func (ix catalogIndex) name(id string) string {
	if img, ok := ix.images[id]; ok {
		return img.Name
	}
	if a, ok := ix.aliases[id]; ok {
		return a.Name
	}
	return id
}

// poolRow is a pool with the names of its image and of what it resolves to.
type poolRow struct {
	api.Pool
	ImageName    string
	ResolvedName string
	// IsAlias is true when the pool names an alias, which moves on by
	// itself when its image is deprecated.
	IsAlias bool
}

func (ix catalogIndex) row(p api.Pool) poolRow {
	_, alias := ix.aliases[p.Image]
	return poolRow{Pool: p, ImageName: ix.name(p.Image), ResolvedName: ix.name(p.ResolvedImage), IsAlias: alias}
}

func (c *Console) poolList(w http.ResponseWriter, r *http.Request, s *session) {
	pools, err := c.cfg.Backend.Pools(r.Context(), s.Tenant.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	ix := indexCatalog(c.cfg.Backend.Images(r.Context()))
	rows := make([]poolRow, 0, len(pools))
	for _, p := range pools {
		rows = append(rows, ix.row(p))
	}
	c.render(w, r, http.StatusOK, "pools", view{Title: "Worker Pools", Nav: "pools", Session: s, Data: rows})
}

// imageOption is one choice of the pool edit form.
type imageOption struct {
	ID, Name string
	// Note says what the choice means today: the image an alias resolves
	// to, or an image's status.
	Note     string
	Status   string
	Disabled bool
	Selected bool
}

// poolView is the content of a pool's page.
type poolView struct {
	Pool    poolRow
	Aliases []imageOption
	Images  []imageOption
	// Error is why the last edit was refused; Saved that it was taken.
	Error string
	Saved bool
}

func (c *Console) poolPage(w http.ResponseWriter, r *http.Request, s *session) {
	p, err := c.cfg.Backend.Pool(r.Context(), s.Tenant.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.renderPool(w, r, s, http.StatusOK, p, "", r.URL.Query().Get("saved") == "1")
}

func (c *Console) renderPool(w http.ResponseWriter, r *http.Request, s *session, status int, p api.Pool, msg string, saved bool) {
	ix := indexCatalog(c.cfg.Backend.Images(r.Context()))
	v := poolView{Pool: ix.row(p), Error: msg, Saved: saved}
	for _, a := range ix.list.Aliases {
		note := "resolves to " + ix.name(a.ResolvesTo) + " today"
		if a.ResolvesTo == "" {
			note = "resolves to no image today"
		}
		v.Aliases = append(v.Aliases, imageOption{ID: a.ID, Name: a.Name, Note: note, Selected: a.ID == p.Image})
	}
	for _, img := range ix.list.Images {
		v.Images = append(v.Images, imageOption{
			ID: img.ID, Name: img.Name, Note: img.Status, Status: img.Status, Selected: img.ID == p.Image,
			Disabled: img.Status == api.ImageStatusDecommissioned && img.ID != p.Image,
		})
	}
	c.render(w, r, status, "pool", view{Title: p.Name, Nav: "pools", Session: s, Data: v})
}

// poolUpdate changes a pool's image through the same update as PATCH
// /api/v1/pools/{id}; a refused change shows the pool again with why.
func (c *Console) poolUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id, image := r.PathValue("id"), r.PostFormValue("image")
	p, err := c.cfg.Backend.UpdatePool(r.Context(), s.Tenant.ID, id, &api.UpdatePoolRequest{Image: &image})
	if err != nil {
		status, e := c.cfg.Backend.Describe(err)
		if status != http.StatusBadRequest && status != http.StatusConflict {
			c.fail(w, r, s, err)
			return
		}
		cur, gerr := c.cfg.Backend.Pool(r.Context(), s.Tenant.ID, id)
		if gerr != nil {
			c.fail(w, r, s, gerr)
			return
		}
		c.renderPool(w, r, s, status, cur, e.Message, false)
		return
	}
	http.Redirect(w, r, "/console/pools/"+url.PathEscape(p.ID)+"?saved=1", http.StatusSeeOther)
}
