package postgres

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// silentServer listens on a loopback port, accepts connections and never
// answers, like a server that hangs; it returns the port.
func silentServer(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		ln.Close()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				<-done
				c.Close()
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// TestOpenErrors needs no server: each URL fails before any query, with an
// error that names the URL without its password.
func TestOpenErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cret"
	for _, tc := range []struct {
		name    string
		url     string
		wantMsg string
	}{
		{"bad port", "postgres://u:" + secret + "@127.0.0.1:notaport/db", "parse url"},
		{"bad scheme", "mysql://u:" + secret + "@127.0.0.1/db", "parse url"},
		{"bad setting", "postgres://u:" + secret + "@127.0.0.1/db?sslmode=sometimes", "parse url"},
		{"refused", "postgres://u:" + secret + "@127.0.0.1:" + itoa(closedPort(t)) + "/db?sslmode=disable", "connect"},
		{"silent server", "postgres://u:" + secret + "@127.0.0.1:" + itoa(silentServer(t)) + "/db?connect_timeout=1", "no answer within 1s"},
		{"keyword form", "host=127.0.0.1 port=" + itoa(closedPort(t)) + " user=u password=" + secret + " sslmode=disable", "connect"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			s, err := Open(t.Context(), tc.url)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded, want an error", redact(tc.url))
			}
			msg := err.Error()
			t.Logf("after %v: %s", time.Since(start).Round(time.Millisecond), msg)
			if !strings.Contains(msg, "open postgres") || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("Open error = %q, want it to say %q", msg, tc.wantMsg)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("Open error = %q, want the password hidden", msg)
			}
			// A hang check, not a measurement: the bound is ten times the
			// 1 s connect timeout of the slowest case.
			if elapsed := time.Since(start); elapsed > 10*time.Second {
				t.Errorf("Open took %v, want it bounded by the connect timeout", elapsed)
			}
		})
	}
}

// TestOpenHonorsContext: a canceled context stops Open at once.
func TestOpenHonorsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s, err := Open(ctx, "postgres://u@127.0.0.1:"+itoa(silentServer(t))+"/db")
	if err == nil {
		s.Close()
		t.Fatal("Open with a canceled context succeeded")
	}
}

func TestMissingSchema(t *testing.T) {
	t.Parallel()
	u := freshSchema(t)
	u = strings.Replace(u, "search_path=dynpool_test_", "search_path=missing_", 1)
	s, err := Open(t.Context(), u)
	if err == nil {
		s.Close()
		t.Fatal("Open with a search_path of no existing schema succeeded")
	}
	if !strings.Contains(err.Error(), "no schema of the search_path exists") {
		t.Errorf("Open error = %q, want it to say the schema is missing", err)
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(serverURL(t))
	if err != nil || u.User == nil {
		t.Skipf("%s is not a URL with a user: %v", urlEnv, err)
	}
	u.User = url.UserPassword(u.User.Username(), "wrong-s3cret")
	s, err := Open(t.Context(), u.String())
	if err == nil {
		s.Close()
		t.Fatal("Open with a wrong password succeeded")
	}
	if !strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), "wrong-s3cret") {
		t.Errorf("Open error = %q, want it to say the password is wrong, without the password", err)
	}
}

func TestParseConfigConnectTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		want time.Duration
	}{
		{"postgres://u@127.0.0.1/db", DefaultConnectTimeout},
		{"postgres://u@127.0.0.1/db?connect_timeout=2", 2 * time.Second},
		{"host=127.0.0.1 user=u connect_timeout=3", 3 * time.Second},
	} {
		cfg, err := parseConfig(tc.url)
		if err != nil {
			t.Fatalf("parseConfig(%s): %v", tc.url, err)
		}
		if got := cfg.ConnConfig.ConnectTimeout; got != tc.want {
			t.Errorf("parseConfig(%s) connect timeout = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:pw@h:5432/db?sslmode=disable", "postgres://u:xxxxx@h:5432/db?sslmode=disable"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://u@h/db?password=pw", "postgres://u@h/db?password=xxxxx"},
		{"postgres://u:pw@h:port/db?password=pw&x=1", "postgres://u:xxxxx@h:port/db?password=xxxxx&x=1"},
		{"host=h user=u password=pw dbname=db", "host=h user=u password=xxxxx dbname=db"},
		{"host=h password = 'p w\\'x' dbname=db", "host=h password = xxxxx dbname=db"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
