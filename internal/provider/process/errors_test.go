package process

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/providertest"
)

func TestSupports(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "true")
	providertest.CheckSupports(t, p, "process", []providertest.SupportsCase{
		{Name: "linux with process artifact", OS: "linux", Artifacts: map[string]string{"process": "", "docker": "img"}, WantErr: ""},
		{Name: "windows", OS: "windows", Artifacts: map[string]string{"process": ""}, WantErr: `the process provider makes linux workers only; image os is "windows"`},
		{Name: "no process artifact", OS: "linux", Artifacts: map[string]string{"docker": "img"}, WantErr: `the image build has no "process" artifact`},
	})
}

func TestCreateMissingCommand(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "dynpool-no-such-command", "agent")
	_, err := p.Create(t.Context(), &provider.CreateParams{WorkerID: "w-1"})
	if err == nil || !strings.Contains(err.Error(), "dynpool-no-such-command") {
		t.Fatalf("Create = %v, want an error naming the command", err)
	}
	if _, err := os.Stat(filepath.Join(p.cfg.Dir, "w-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("worker dir after a failed Create: %v, want it gone", err)
	}
}

func TestInvalidWorkerID(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "true")
	for _, id := range []string{"", ".", "..", "a/b", "../x"} {
		if _, err := p.Create(t.Context(), &provider.CreateParams{WorkerID: id}); !errors.Is(err, ErrInvalidWorkerID) {
			t.Errorf("Create(%q) = %v, want ErrInvalidWorkerID", id, err)
		}
		if err := p.Destroy(t.Context(), id); !errors.Is(err, ErrInvalidWorkerID) {
			t.Errorf("Destroy(%q) = %v, want ErrInvalidWorkerID", id, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	p := newProvider(t, "true")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Create(ctx, &provider.CreateParams{WorkerID: "w-1"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Create = %v, want context.Canceled", err)
	}
	if _, err := p.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List = %v, want context.Canceled", err)
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no installation", Config{Dir: t.TempDir()}, "installation is empty"},
		{"no dir", Config{Installation: "i"}, "dir is empty"},
		{"dir is a file", Config{Installation: "i", Dir: fileIn(t)}, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
	p, err := New(Config{Installation: "i", Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if exe, _ := os.Executable(); len(p.cfg.Command) != 2 || p.cfg.Command[0] != exe || p.cfg.Command[1] != "agent" {
		t.Errorf("default Command = %q, want [%s agent]", p.cfg.Command, exe)
	}
}

// fileIn returns the path of a new regular file, under which no directory
// can be made.
func fileIn(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(path, "sub")
}
