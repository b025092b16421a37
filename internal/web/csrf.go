package web

import (
	"net/http"
	"net/url"
)

// sameOrigin lets a state-changing request through only when the browser
// says it comes from a console page: its Origin header, or when absent its
// Referer, must name the request's host. (The host alone is compared, not
// the scheme: behind a TLS-terminating proxy the server sees plain HTTP
// while the browser names https.) Signed-in forms are checked once more
// against the session's CSRF token in signedIn.
func (c *Console) sameOrigin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		from := r.Header.Get("Origin")
		if from == "" || from == "null" {
			from = r.Header.Get("Referer")
		}
		u, err := url.Parse(from)
		if from == "" || err != nil || u.Host != r.Host {
			c.cfg.Logger.WarnContext(r.Context(), "console refused a cross-origin request",
				"method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"), "referer", r.Header.Get("Referer"))
			c.renderError(w, r, nil, http.StatusForbidden, "This request did not come from a console page (its Origin or Referer names another site, or none), so it was refused.")
			return
		}
		h(w, r)
	}
}
