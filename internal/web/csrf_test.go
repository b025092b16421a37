package web

import (
	"net/http"
	"net/url"
	"testing"
)

func TestStateChangesNeedTheConsoleOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, csrf := h.signIn(t, fakeKey)
	good := url.Values{"csrf": {csrf}, "image": {"ubuntu-22.04"}}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"another site's origin", good, []string{"Origin", "https://evil.test"}},
		{"no origin and no referer", good, []string{"Origin", ""}},
		{"opaque origin, another site's referer", good, []string{"Origin", "null", "Referer", "https://evil.test/page"}},
		{"no CSRF token", url.Values{"image": {"ubuntu-22.04"}}, nil},
		{"another session's CSRF token", url.Values{"csrf": {"bm90IHRoaXMgb25l"}, "image": {"ubuntu-22.04"}}, nil},
	} {
		w := h.do(t, request{method: "POST", path: "/console/pools/p1", cookie: ck, form: tc.form, headers: tc.headers})
		wantPage(t, tc.name, w, http.StatusForbidden)
	}
	if p := h.b.pools["p1"]; p.Image != "ubuntu-18.04" {
		t.Fatalf("a refused form changed the pool: %+v", p)
	}
	w := h.do(t, request{method: "POST", path: "/console/pools/p1", cookie: ck, form: good,
		headers: []string{"Origin", "", "Referer", "http://" + host + "/console/pools/p1"}})
	if w.Code != http.StatusSeeOther || h.b.pools["p1"].Image != "ubuntu-22.04" {
		t.Errorf("same-origin form (by Referer) with the token: %d, pool %+v; want 303 and the new image", w.Code, h.b.pools["p1"])
	}
}

func TestSignInNeedsTheConsoleOrigin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	form := url.Values{"token": {fakeKey}}
	for _, headers := range [][]string{{"Origin", "https://evil.test"}, {"Origin", ""}} {
		w := h.do(t, request{method: "POST", path: "/console/signin", form: form, headers: headers})
		wantPage(t, "sign-in with "+headers[1]+" as origin", w, http.StatusForbidden, "did not come from a console page")
		if sessionCookie(w) != nil {
			t.Errorf("a cross-origin sign-in set the session cookie")
		}
	}
}

func TestSignOutNeedsTheCSRFToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, _ := h.signIn(t, fakeKey)
	w := h.do(t, request{method: "POST", path: "/console/signout", cookie: ck, form: url.Values{}})
	wantPage(t, "sign-out without the token", w, http.StatusForbidden, "CSRF token")
}
