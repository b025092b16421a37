package web

import (
	"net/http"

	"github.com/dynpool/dynpool/api"
)

// aliasRow is an alias with the name of the image it resolves to today.
type aliasRow struct {
	api.Alias
	ResolvesToName string
}

// imagesView is the content of the images page.
type imagesView struct {
	Images  []api.Image
	Aliases []aliasRow
}

// imageList shows the catalog: images with status, dates, builds and tool
// manifest, and what each alias resolves to today. Both tenants and the
// operator may read it.
func (c *Console) imageList(w http.ResponseWriter, r *http.Request, s *session) {
	ix := indexCatalog(c.cfg.Backend.Images(r.Context()))
	v := imagesView{Images: ix.list.Images}
	for _, a := range ix.list.Aliases {
		v.Aliases = append(v.Aliases, aliasRow{Alias: a, ResolvesToName: ix.name(a.ResolvesTo)})
	}
	c.render(w, r, http.StatusOK, "images", view{Title: "Images", Nav: "images", Session: s, Data: v})
}
