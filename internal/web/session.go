package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// cookieName is the session cookie's name.
const cookieName = "dynpool_session"

// Reasons a request has no session; the sign-in page shows them.
var (
	errNoSession      = errors.New("sign in to use the console")
	errSessionExpired = errors.New("your session has expired: sign in again")
	errSessionRevoked = errors.New("your session ended because its API key or tenant is gone: sign in again")
)

// claims is what a session cookie carries, signed.
type claims struct {
	Admin    bool   `json:"a,omitempty"`
	TenantID string `json:"t,omitempty"`
	// Key is the Principal's KeyFingerprint at sign-in.
	Key string `json:"k,omitempty"`
	// Expires is a Unix time in seconds on the console's clock.
	Expires int64 `json:"x"`
	// Nonce makes each session (and so its CSRF token) unique.
	Nonce string `json:"n"`
}

// session is a verified session and who it belongs to now.
type session struct {
	Principal
	claims claims
}

// csrfToken is the token the session's forms carry.
func (c *Console) csrfToken(s *session) string {
	return c.sign("csrf:" + s.claims.Nonce)
}

func (c *Console) sign(v string) string {
	m := hmac.New(sha256.New, c.cfg.SessionKey)
	m.Write([]byte(v))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// startSession sets the cookie of a new session for p.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, p Principal) error {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("make session nonce: %w", err)
	}
	cl := claims{
		Admin: p.Admin, TenantID: p.Tenant.ID, Key: p.KeyFingerprint,
		Expires: c.cfg.Clock.Now().Add(c.cfg.SessionTTL).Unix(),
		Nonce:   base64.RawURLEncoding.EncodeToString(nonce),
	}
	b, err := json.Marshal(cl)
	if err != nil {
		return fmt.Errorf("encode session: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	// No Expires: the browser drops the cookie when it closes, and the
	// signed Expires ends the session on the server's clock before that.
	http.SetCookie(w, c.cookie(r, payload+"."+c.sign(payload), 0))
	return nil
}

// endSession clears the session cookie.
func (c *Console) endSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, c.cookie(r, "", -1))
}

func (c *Console) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: cookieName, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	}
}

// readSession verifies r's session cookie and re-reads its tenant. A
// missing, forged or expired cookie is one of the errSession errors; a
// backend failure is returned as it is.
func (c *Console) readSession(r *http.Request) (*session, error) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil, errNoSession
	}
	payload, mac, ok := strings.Cut(ck.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(c.sign(payload))) {
		return nil, errNoSession
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	var cl claims
	if err != nil || json.Unmarshal(b, &cl) != nil {
		return nil, errNoSession
	}
	if c.cfg.Clock.Now().Unix() >= cl.Expires {
		return nil, errSessionExpired
	}
	if cl.Admin {
		return &session{Principal: Principal{Admin: true}, claims: cl}, nil
	}
	p, err := c.cfg.Backend.TenantPrincipal(r.Context(), cl.TenantID)
	if status, _ := c.cfg.Backend.Describe(err); err != nil && status == http.StatusNotFound {
		return nil, errSessionRevoked
	}
	if err != nil {
		return nil, fmt.Errorf("read tenant of session: %w", err)
	}
	if !hmac.Equal([]byte(p.KeyFingerprint), []byte(cl.Key)) {
		return nil, errSessionRevoked
	}
	return &session{Principal: p, claims: cl}, nil
}

// optionalSession is r's session, or nil for none.
func (c *Console) optionalSession(r *http.Request) *session {
	s, err := c.readSession(r)
	if err != nil {
		return nil
	}
	return s
}

// signedIn runs h with r's session. Without one, a page request goes to
// the sign-in page (coming back afterwards) and anything else answers 401.
// A POST must carry the session's CSRF token, else 403.
func (c *Console) signedIn(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := c.readSession(r)
		switch {
		case errors.Is(err, errNoSession), errors.Is(err, errSessionExpired), errors.Is(err, errSessionRevoked):
			// A page goes to sign-in; an event stream cannot follow a redirect.
			if r.Method == http.MethodGet && r.Header.Get("Accept") != "text/event-stream" {
				q := url.Values{"next": {r.URL.RequestURI()}}
				if !errors.Is(err, errNoSession) {
					q.Set("why", err.Error())
				}
				http.Redirect(w, r, "/console/signin?"+q.Encode(), http.StatusSeeOther)
				return
			}
			c.renderError(w, r, nil, http.StatusUnauthorized, err.Error())
			return
		case err != nil:
			c.fail(w, r, nil, err)
			return
		}
		if r.Method == http.MethodPost && !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(c.csrfToken(s))) {
			c.renderError(w, r, s, http.StatusForbidden, "This form is stale or did not come from the console (its CSRF token does not match): reload the page and try again.")
			return
		}
		h(w, r, s)
	}
}

// tenantOnly is signedIn for pages of a tenant.
func (c *Console) tenantOnly(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		if s.Admin {
			c.renderError(w, r, s, http.StatusForbidden, "This page shows one tenant's data: sign in with that tenant's API key. The admin token opens the admin pages.")
			return
		}
		h(w, r, s)
	})
}

// adminOnly is signedIn for the operator's pages.
func (c *Console) adminOnly(h func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return c.signedIn(func(w http.ResponseWriter, r *http.Request, s *session) {
		if !s.Admin {
			c.renderError(w, r, s, http.StatusForbidden, "This page is for the operator: sign in with the admin token.")
			return
		}
		h(w, r, s)
	})
}
