package web

import (
	"net/http"
	"strings"
)

// signInView is the content of the sign-in page.
type signInView struct {
	// Next is the console page to go to after signing in.
	Next string
	// Message says why the visitor is here, or what went wrong.
	Message string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", Data: signInView{
		Next: safeNext(r.URL.Query().Get("next")), Message: r.URL.Query().Get("why"),
	}})
}

// signIn checks the token through the Backend, as the API authenticates a
// bearer token, and starts a session. A wrong token answers 401 with the
// form again.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := safeNext(r.PostFormValue("next"))
	again := func(status int, msg string) {
		c.render(w, r, status, "signin", view{Title: "Sign in", Data: signInView{Next: next, Message: msg}})
	}
	if token == "" {
		again(http.StatusBadRequest, "Enter a tenant API key (dpk_…) or the admin token.")
		return
	}
	p, err := c.cfg.Backend.SignIn(r.Context(), token)
	if err != nil {
		status, e := c.cfg.Backend.Describe(err)
		if status >= 500 {
			c.fail(w, r, nil, err)
			return
		}
		again(status, "Sign-in failed: "+e.Message)
		return
	}
	if err := c.startSession(w, r, p); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.cfg.Logger.InfoContext(r.Context(), "console sign-in", "admin", p.Admin, "tenant_id", p.Tenant.ID)
	if next == "" {
		next = Prefix
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, _ *session) {
	c.endSession(w, r)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

// safeNext keeps a return path only when it is a console page, so the
// sign-in form cannot send anyone to another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}
