package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

// consoleClient is a browser-like HTTP client of a real server's console:
// same-origin forms, its own session cookie, no redirects followed.
type consoleClient struct {
	base   string
	cookie *http.Cookie
	http   *http.Client
}

func signInConsole(t *testing.T, s *testServer, token string) *consoleClient {
	t.Helper()
	c := &consoleClient{base: s.URL(), http: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	resp, _ := c.do(t, "POST", "/console/signin", url.Values{"token": {token}}, nil)
	for _, ck := range resp.Cookies() {
		if ck.Name == "dynpool_session" {
			c.cookie = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || c.cookie == nil {
		t.Fatalf("console sign-in: status %d, cookie %v; want 303 and a session", resp.StatusCode, c.cookie)
	}
	return c
}

// do sends a request as the console's own pages would (Origin set on a
// POST, the session cookie) and returns the answer and its body.
func (c *consoleClient) do(t *testing.T, method, path string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, c.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.base)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestConsoleRootAndUnknownPaths(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	c := &consoleClient{base: s.URL(), http: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	resp, _ := c.do(t, "GET", "/", nil, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/console/" {
		t.Errorf("GET /: %d to %q, want 302 to /console/", resp.StatusCode, loc)
	}
	resp, body := c.do(t, "GET", "/api/v1/nothing", nil, nil)
	var e api.ErrorResponse
	if resp.StatusCode != http.StatusNotFound || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != api.CodeNotFound {
		t.Errorf("GET /api/v1/nothing: %d %s, want the JSON 404", resp.StatusCode, body)
	}
	resp, body = c.do(t, "GET", "/console/nothing", nil, nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /console/nothing: %d %s %s, want an HTML 404", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, _ = c.do(t, "POST", "/console/signin", url.Values{"token": {s.AdminToken()}}, http.Header{"Origin": {"https://evil.test"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin sign-in with the admin token: %d, want 403", resp.StatusCode)
	}
	resp, body = c.do(t, "POST", "/console/signin", url.Values{"token": {"dpk_wrong"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unknown API key") {
		t.Errorf("sign-in with a wrong key: %d, want 401 saying unknown API key; body:\n%s", resp.StatusCode, body)
	}
}

// TestConsoleHidesOtherTenants checks that another tenant's pool and task
// answer 404 on every console page, as they do in the API, and that the
// task list (GET /api/v1/tasks and the console) shows a tenant its own.
func TestConsoleHidesOtherTenants(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	s.pool(t, clientFor(s, acme.APIKey), "Linux", "ubuntu-default")
	globex := s.tenant(t, "globex")
	pools, err := globex.ListPools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := runTask(t, globex, api.StepRequest{Script: "echo globex secret"})

	c := signInConsole(t, s, acme.APIKey)
	_, csrfPage := c.do(t, "GET", "/console/tasks", nil, nil)
	csrf := between(csrfPage, `name="csrf" value="`, `"`)
	for _, tc := range []struct {
		method, path string
		form         url.Values
		header       http.Header
	}{
		{"GET", "/console/pools/" + pools[0].ID, nil, nil},
		{"GET", "/console/pools/Linux-of-nobody", nil, nil},
		{"POST", "/console/pools/" + pools[0].ID, url.Values{"csrf": {csrf}, "image": {"ubuntu-22.04"}}, nil},
		{"GET", "/console/tasks/" + theirs.ID, nil, nil},
		{"POST", "/console/tasks/" + theirs.ID + "/cancel", url.Values{"csrf": {csrf}}, nil},
		{"GET", "/console/tasks/" + theirs.ID + "/log", nil, http.Header{"Accept": {"text/event-stream"}}},
	} {
		resp, body := c.do(t, tc.method, tc.path, tc.form, tc.header)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "globex secret") {
			t.Errorf("%s %s as acme: %d, want 404 without globex's data; body:\n%s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	if p, err := globex.GetPool(t.Context(), pools[0].ID); err != nil || p.Image != "ubuntu-default" {
		t.Errorf("globex's pool after acme's edit = %+v, %v; want it unchanged", p, err)
	}
	_, body := c.do(t, "GET", "/console/tasks", nil, nil)
	if strings.Contains(body, theirs.ID) {
		t.Errorf("acme's task list shows globex's task %s", theirs.ID)
	}
	req, _ := http.NewRequestWithContext(t.Context(), "GET", s.URL()+"/api/v1/tasks", nil)
	req.Header.Set("Authorization", "Bearer "+acme.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list api.TaskList
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK || len(list.Tasks) != 0 {
		t.Errorf("GET /api/v1/tasks as acme: %d %+v %v, want 200 and no task", resp.StatusCode, list, err)
	}
}

// between returns the text of s between the first from and the next to.
func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}

// A pool edited in the console is audited as the console's, from the
// browser's address (found by review: console entries had no address).
func TestConsoleChangesAreAudited(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	acme, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	pool := s.pool(t, clientFor(s, acme.APIKey), "Linux", "ubuntu-default")
	c := signInConsole(t, s, acme.APIKey)
	_, page := c.do(t, "GET", "/console/pools/"+pool.ID, nil, nil)
	csrf := between(page, `name="csrf" value="`, `"`)
	if resp, body := c.do(t, "POST", "/console/pools/"+pool.ID, url.Values{"csrf": {csrf}, "image": {"ubuntu-22.04"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit in the console: %d\n%s", resp.StatusCode, body)
	}
	status, body := get(t, s.URL()+"/api/v1/audit?limit=1", acme.APIKey)
	var l api.AuditList
	if status != http.StatusOK || json.Unmarshal(body, &l) != nil || len(l.Entries) != 1 {
		t.Fatalf("GET audit: %d %s", status, body)
	}
	if e := l.Entries[0]; e.Action != "pool.update" || e.Actor != "console" || e.Source != "127.0.0.1" {
		t.Errorf("newest entry = %+v, want pool.update by the console from 127.0.0.1", e)
	}
}
