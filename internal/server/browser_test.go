package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvChromium names the Chromium binary the browser tests drive; when
// unset they look for Debian's "chromium" on PATH, and skip without one.
// .ci/chromium.sh installs it.
const EnvChromium = "DYNPOOL_TEST_CHROMIUM"

// browserStepTimeout bounds one step of a browser test (a page load, a
// wait for an element).
const browserStepTimeout = 30 * time.Second

// browser is one headless Chromium tab for a test.
type browser struct {
	t   *testing.T
	ctx context.Context
	// shots is where screenshots go: t.ArtifactDir(), which `go test
	// -artifacts` keeps under -outputdir and which is a temporary
	// directory otherwise.
	shots string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := os.Getenv(EnvChromium)
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Skipf("no browser: install Debian's chromium (bash .ci/chromium.sh) or set %s to a Chromium binary", EnvChromium)
		}
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-gpu", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, for as long as ctx lives: no
	// timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &browser{t: t, ctx: ctx, shots: t.ArtifactDir()}
}

// do runs steps within browserStepTimeout, failing the test with what.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the visible text of the element the CSS selector finds.
func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("read text of %s: %v", sel, err)
	}
	return s
}

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot saves a PNG of the whole page as <name>.png in b.shots.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
	b.t.Logf("screenshot %s", path)
}

// wantText fails the test unless the element sel says each of texts.
func (b *browser) wantText(sel string, texts ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, s := range texts {
		if !strings.Contains(got, s) {
			b.t.Errorf("%s says %q, want it to say %q", sel, got, s)
		}
	}
}

// signIn signs in on the console's sign-in page with token.
func (b *browser) signIn(base, token, landing string) {
	b.t.Helper()
	b.do("sign in",
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(landing)),
	)
}
