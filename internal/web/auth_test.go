package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSignInRefusesWrongTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name, token string
		status      int
		says        string
	}{
		{"unknown key", "dpk_nobody", http.StatusUnauthorized, "Sign-in failed: unknown API key"},
		{"empty", "  ", http.StatusBadRequest, "Enter a tenant API key"},
	} {
		w := h.do(t, request{method: "POST", path: "/console/signin", form: url.Values{"token": {tc.token}}})
		wantPage(t, tc.name, w, tc.status, tc.says)
		if ck := sessionCookie(w); ck != nil {
			t.Errorf("%s: a refused sign-in set the cookie %v", tc.name, ck)
		}
	}
}

func TestSessionCookieIsLockedDown(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.do(t, request{method: "POST", path: "/console/signin", form: url.Values{"token": {fakeKey}}})
	ck := sessionCookie(w)
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/console/" || ck.Secure {
		t.Fatalf("cookie over plain HTTP = %+v, want HttpOnly, SameSite=Strict, Path /console/, not Secure", ck)
	}
	if strings.Contains(ck.Value, fakeKey) {
		t.Errorf("cookie %q holds the API key", ck.Value)
	}
	if loc := w.Header().Get("Location"); loc != "/console/" {
		t.Errorf("sign-in went to %q, want /console/", loc)
	}

	r := httptest.NewRequest("POST", "https://"+host+"/console/signin", strings.NewReader("token="+fakeKey))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://"+host)
	r.TLS = &tls.ConnectionState{}
	tw := httptest.NewRecorder()
	h.c.ServeHTTP(tw, r)
	if ck := sessionCookie(tw); ck == nil || !ck.Secure {
		t.Errorf("cookie over TLS = %+v, want Secure", ck)
	}
}

func TestSignInReturnsToTheAskedPageOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.do(t, request{method: "GET", path: "/console/pools/p1"})
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != "/console/signin?next=%2Fconsole%2Fpools%2Fp1" {
		t.Fatalf("signed-out pool page: %d to %q, want 303 to the sign-in page with next", w.Code, loc)
	}
	for next, want := range map[string]string{
		"/console/pools/p1":  "/console/pools/p1",
		"https://evil.test/": "/console/",
		"//evil.test/":       "/console/",
		"/api/v1/pools":      "/console/",
	} {
		w := h.do(t, request{method: "POST", path: "/console/signin", form: url.Values{"token": {fakeKey}, "next": {next}}})
		if loc := w.Header().Get("Location"); loc != want {
			t.Errorf("sign-in with next=%q went to %q, want %q", next, loc, want)
		}
	}
}

func TestPagesNeedASession(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	forged := &http.Cookie{Name: cookieName, Value: "eyJ0IjoidDEiLCJ4Ijo5OTk5OTk5OTk5fQ.bm90LWEtbWFj"}
	for _, tc := range []struct {
		name string
		req  request
		want int
	}{
		{"page without cookie", request{method: "GET", path: "/console/tasks"}, http.StatusSeeOther},
		{"page with forged cookie", request{method: "GET", path: "/console/tasks", cookie: forged}, http.StatusSeeOther},
		{"event stream without cookie", request{method: "GET", path: "/console/tasks/k1/log", headers: []string{"Accept", "text/event-stream"}}, http.StatusUnauthorized},
		{"form without cookie", request{method: "POST", path: "/console/pools/p1", form: url.Values{"image": {"ubuntu-22.04"}}}, http.StatusUnauthorized},
		{"admin page without cookie", request{method: "GET", path: "/console/admin/tenants"}, http.StatusSeeOther},
	} {
		w := h.do(t, tc.req)
		if w.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, w.Code, tc.want)
		}
		if w.Code == http.StatusSeeOther && !strings.HasPrefix(w.Header().Get("Location"), "/console/signin?") {
			t.Errorf("%s: went to %q, want the sign-in page", tc.name, w.Header().Get("Location"))
		}
	}
	if p := h.b.pools["p1"]; p.Image != "ubuntu-18.04" {
		t.Errorf("a signed-out form changed the pool: %+v", p)
	}
}

func TestSessionEnds(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, _ := h.signIn(t, fakeKey)
	h.clock.Advance(DefaultSessionTTL + 1)
	w := h.do(t, request{method: "GET", path: "/console/pools", cookie: ck})
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.Contains(loc, "expired") {
		t.Errorf("page after the session expired: %d to %q, want 303 to sign-in saying expired", w.Code, loc)
	}

	ck, _ = h.signIn(t, fakeKey)
	h.b.fingerprint = "fp2" // the tenant's key changed
	w = h.do(t, request{method: "GET", path: "/console/pools", cookie: ck})
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || !strings.Contains(loc, "ended") {
		t.Errorf("page after the key changed: %d to %q, want 303 to sign-in saying the session ended", w.Code, loc)
	}
}

func TestSignOutClearsTheCookie(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, csrf := h.signIn(t, fakeKey)
	w := h.do(t, request{method: "POST", path: "/console/signout", cookie: ck, form: url.Values{"csrf": {csrf}}})
	cleared := sessionCookie(w)
	if w.Code != http.StatusSeeOther || cleared == nil || cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Errorf("sign-out: %d with cookie %+v, want 303 clearing the cookie", w.Code, cleared)
	}
}

func TestAdminAndTenantPagesAreApart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tenant, _ := h.signIn(t, fakeKey)
	admin, _ := h.signIn(t, fakeAdminToken)
	wantPage(t, "tenant on the admin tenants page", h.do(t, request{method: "GET", path: "/console/admin/tenants", cookie: tenant}),
		http.StatusForbidden, "sign in with the admin token")
	wantPage(t, "admin on the pool list", h.do(t, request{method: "GET", path: "/console/pools", cookie: admin}),
		http.StatusForbidden, "sign in with that tenant&#39;s API key")
	wantPage(t, "admin on the tenants page", h.do(t, request{method: "GET", path: "/console/admin/tenants", cookie: admin}),
		http.StatusOK, "acme", "1h0m0s", "72h0m0s", "no limit")
}
