package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// host is the console's host in these tests; same-origin requests name it.
const host = "console.test"

type harness struct {
	c     *Console
	clock *clockwork.FakeClock
	b     *fakeBackend
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)), b: newFakeBackend()}
	c, err := New(Config{
		Backend: h.b, SessionKey: []byte(strings.Repeat("k", 32)), Clock: h.clock,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("new console: %v", err)
	}
	h.c = c
	return h
}

// request is one request to the console.
type request struct {
	method, path string
	form         url.Values
	cookie       *http.Cookie
	// headers are name, value pairs; POSTs get a same-origin Origin
	// unless they name one (an empty value sends none).
	headers []string
}

func (h *harness) do(t *testing.T, req request) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if req.form != nil {
		body = strings.NewReader(req.form.Encode())
	}
	r := httptest.NewRequest(req.method, "http://"+host+req.path, body)
	if req.form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if req.method == http.MethodPost {
		r.Header.Set("Origin", "http://"+host)
	}
	for i := 0; i+1 < len(req.headers); i += 2 {
		if req.headers[i+1] == "" {
			r.Header.Del(req.headers[i])
		} else {
			r.Header.Set(req.headers[i], req.headers[i+1])
		}
	}
	if req.cookie != nil {
		r.AddCookie(req.cookie)
	}
	w := httptest.NewRecorder()
	h.c.ServeHTTP(w, r)
	return w
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs in with token and returns the session cookie and the CSRF
// token its pages carry.
func (h *harness) signIn(t *testing.T, token string) (*http.Cookie, string) {
	t.Helper()
	w := h.do(t, request{method: "POST", path: "/console/signin", form: url.Values{"token": {token}}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("sign in: status %d, want 303; body:\n%s", w.Code, w.Body)
	}
	ck := sessionCookie(w)
	if ck == nil {
		t.Fatal("sign in set no session cookie")
	}
	page := h.do(t, request{method: "GET", path: "/console/images", cookie: ck})
	m := csrfField.FindStringSubmatch(page.Body.String())
	if m == nil {
		t.Fatalf("signed-in page has no CSRF field:\n%s", page.Body)
	}
	return ck, m[1]
}

func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// wantPage checks the status of w and that its body says each of texts.
func wantPage(t *testing.T, what string, w *httptest.ResponseRecorder, status int, texts ...string) {
	t.Helper()
	if w.Code != status {
		t.Errorf("%s: status %d, want %d; body:\n%s", what, w.Code, status, w.Body)
		return
	}
	for _, s := range texts {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("%s: page does not say %q; body:\n%s", what, s, w.Body)
		}
	}
}
