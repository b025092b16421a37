package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestOtherTenantsAndUnknownPagesAnswerNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, csrf := h.signIn(t, fakeKey)
	for _, tc := range []request{
		{method: "GET", path: "/console/pools/p9"},
		{method: "POST", path: "/console/pools/p9", form: url.Values{"csrf": {csrf}, "image": {"ubuntu-22.04"}}},
		{method: "GET", path: "/console/tasks/k9"},
		{method: "POST", path: "/console/tasks/k9/cancel", form: url.Values{"csrf": {csrf}}},
		{method: "GET", path: "/console/tasks/k9/log", headers: []string{"Accept", "text/event-stream"}},
		{method: "GET", path: "/console/nothing-here"},
	} {
		tc.cookie = ck
		w := h.do(t, tc)
		if w.Code != http.StatusNotFound {
			t.Errorf("%s %s: status %d, want 404; body:\n%s", tc.method, tc.path, w.Code, w.Body)
		}
	}
	w := h.do(t, request{method: "GET", path: "/console/nothing-here"})
	wantPage(t, "unknown page, signed out", w, http.StatusNotFound, "There is no console page at /console/nothing-here")
}

func TestPoolPageShowsLabelsAndTheTradeOff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, csrf := h.signIn(t, fakeKey)
	wantPage(t, "pool list", h.do(t, request{method: "GET", path: "/console/pools", cookie: ck}), http.StatusOK,
		`<span class="label deprecated">Deprecated</span>`, `<span class="label default">Default pool</span>`, "Ubuntu Server 18.04")
	wantPage(t, "pool page", h.do(t, request{method: "GET", path: "/console/pools/p1", cookie: ck}), http.StatusOK,
		"tools and their versions may change under you", "you must edit the pool and move before its end of life",
		`<option value="ubuntu-default">Ubuntu (default): resolves to Ubuntu Server 22.04 today</option>`)

	w := h.do(t, request{method: "POST", path: "/console/pools/p1", cookie: ck, form: url.Values{"csrf": {csrf}, "image": {"ubuntu-99"}}})
	wantPage(t, "refused edit", w, http.StatusBadRequest, "The change was refused: image: no such image")
	w = h.do(t, request{method: "POST", path: "/console/pools/p1", cookie: ck, form: url.Values{"csrf": {csrf}, "image": {"ubuntu-22.04"}}})
	if loc := w.Header().Get("Location"); w.Code != http.StatusSeeOther || loc != "/console/pools/p1?saved=1" {
		t.Fatalf("edit: %d to %q, want 303 to the pool page", w.Code, loc)
	}
	w = h.do(t, request{method: "GET", path: "/console/pools", cookie: ck})
	wantPage(t, "pool list after the edit", w, http.StatusOK, `<span class="label active">Active</span>`)
	if body := w.Body.String(); strings.Contains(body, `label deprecated`) {
		t.Errorf("pool list after the edit still shows Deprecated:\n%s", body)
	}
}

func TestRefusedTaskShowsTheFormAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, csrf := h.signIn(t, fakeKey)
	w := h.do(t, request{method: "POST", path: "/console/tasks", cookie: ck,
		form: url.Values{"csrf": {csrf}, "name": {"deploy"}, "script": {"echo hi"}, "syntax": {"bash"}}})
	wantPage(t, "refused task", w, http.StatusBadRequest, "image: no such image", ">echo hi</textarea>")
}

func TestLogStreamRefusesABadLineNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ck, _ := h.signIn(t, fakeKey)
	w := h.do(t, request{method: "GET", path: "/console/tasks/k1/log?after=-3", cookie: ck, headers: []string{"Accept", "text/event-stream"}})
	wantPage(t, "stream after=-3", w, http.StatusBadRequest, "not a line number")
}

func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tenant, _ := h.signIn(t, fakeKey)
	admin, _ := h.signIn(t, fakeAdminToken)
	for _, tc := range []struct {
		path   string
		cookie *http.Cookie
		says   string
	}{
		{"/console/signin", nil, "API key or admin token"},
		{"/console/pools", tenant, "Worker Pools"},
		{"/console/pools/p1", tenant, "Change the image"},
		{"/console/workers", tenant, "No live workers"},
		{"/console/images", tenant, "/opt/kubectl/{{version}}/kubectl"},
		{"/console/tasks", tenant, "Run a script"},
		{"/console/tasks/k1", tenant, `data-stream="/console/tasks/k1/log?after=0"`},
		{"/console/admin/tenants", admin, "acme"},
		{"/console/admin/workers", admin, "All workers"},
		{"/console/admin/deprecations", admin, "No pool runs on a deprecated"},
		{"/console/images", admin, "Ubuntu (default)"},
	} {
		wantPage(t, tc.path, h.do(t, request{method: "GET", path: tc.path, cookie: tc.cookie}), http.StatusOK, tc.says)
	}
}
