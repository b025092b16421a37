package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

// pages holds one template set per page, each the layout plus the page.
type pages map[string]*template.Template

// parsePages parses every templates/*.html but the layout as a page.
func parsePages() (pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	out := pages{}
	for _, name := range names {
		if name == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		out[strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")] = t
	}
	return out, nil
}

// view is what every page template gets.
type view struct {
	// Title heads the page and the browser tab.
	Title string
	// Nav is the menu entry to highlight ("pools", "tasks", ...).
	Nav string
	// Session is nil on the sign-in and error pages of a signed-out user.
	Session *session
	// CSRF is the token the page's forms carry.
	CSRF string
	// Now is the console clock's time the page was rendered at.
	Now time.Time
	// Data is the page's own content.
	Data any
}

// render writes page with status, buffered so that a template error is a
// clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	v.Now = c.cfg.Clock.Now()
	if v.Session != nil {
		v.CSRF = c.csrfToken(v.Session)
	}
	var buf bytes.Buffer
	if err := c.pages[page].Execute(&buf, v); err != nil {
		c.cfg.Logger.ErrorContext(r.Context(), "render console page", "page", page, "error", err)
		http.Error(w, "internal error; the server log has the details", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// errorView is the content of the error page.
type errorView struct {
	Status  int
	Message string
}

// renderError answers an error page with status and message.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, s *session, status int, message string) {
	c.render(w, r, status, "error", view{
		Title: http.StatusText(status), Session: s, Data: errorView{Status: status, Message: message},
	})
}

// fail answers a Backend error with the status and message the API would
// give it; a 5xx is logged, since its message says to read the log.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status, e := c.cfg.Backend.Describe(err)
	if status >= 500 {
		c.cfg.Logger.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	c.renderError(w, r, s, status, e.Message)
}
