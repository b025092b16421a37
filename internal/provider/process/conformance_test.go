package process_test

import (
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/process"
	"github.com/dynpool/dynpool/internal/provider/providertest"
)

// TestConformance runs the provider conformance suite. The process
// provider's Config.Command decides what a worker runs and its artifact is
// always empty, so the stand-in agent and the broken command are set on
// the provider, not in the params.
func TestConformance(t *testing.T) {
	t.Parallel()
	root := t.TempDir() // outlives the subtests, so a restart finds its Dir
	newProvider := func(t *testing.T, installation string, command ...string) provider.Provider {
		t.Helper()
		p, err := process.New(process.Config{
			Installation: installation,
			Dir:          filepath.Join(root, installation),
			Command:      command,
			Logger:       slog.New(slog.NewTextHandler(testOutput(t), nil)),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		return p
	}
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, installation string) provider.Provider {
			return newProvider(t, installation, "sh", "-c", "sleep 300")
		},
		Agent: func(*testing.T) (string, string) { return "linux", "" },
		Broken: func(t *testing.T, installation string) (provider.Provider, string, string) {
			return newProvider(t, installation, "dynpool-no-such-command"), "linux", ""
		},
	})
}

// testOutput returns t.Output() until t's cleanup, and then discards. The
// provider logs from the goroutine that reaps an agent, which may run
// after the test ends when another provider (a restarted one) destroyed
// the agent, and writing to a finished test's output panics.
func testOutput(t *testing.T) io.Writer {
	w := &guardedWriter{w: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.w = io.Discard
	})
	return w
}

// guardedWriter is a writer whose destination can be swapped safely.
type guardedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (g *guardedWriter) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.w.Write(p)
}
