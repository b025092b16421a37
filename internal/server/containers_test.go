package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/provider/docker"
	"github.com/dynpool/dynpool/internal/provider/process"
	"github.com/dynpool/dynpool/internal/store"
)

func TestShareWorkVolume(t *testing.T) {
	t.Parallel()
	w := &store.Worker{ID: "w-1", ResourceID: "c0ffee"}
	var sc docker.StepContainer
	if err := shareWorkVolume(w, "/work/job-1", &sc); err != nil || sc.VolumesFrom != "c0ffee" {
		t.Fatalf("share /work/job-1 = %v (volumes from %q), want the worker's container", err, sc.VolumesFrom)
	}
	for _, dir := range []string{"/work", "/etc", "/work/../etc", "/workshop/x"} {
		if err := shareWorkVolume(w, dir, &docker.StepContainer{}); err == nil || !strings.Contains(err.Error(), "is not inside the worker's work directory") {
			t.Errorf("share %s = %v, want it refused", dir, err)
		}
	}
}

func TestShareProcessDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	p, err := process.New(process.Config{Installation: "i", Dir: root, Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	w := &store.Worker{ID: "w-1"}
	job := filepath.Join(root, "w-1", "job-1")
	other := filepath.Join(root, "w-2", "job-1")
	outside := t.TempDir()
	for _, d := range []string{job, other} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(root, "w-1", "job-link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	var sc docker.StepContainer
	if err := shareProcessDir(p, w, job, &sc); err != nil || sc.BindDir == "" || sc.User == "" {
		t.Fatalf("share the worker's job directory = %v (bind %q, user %q)", err, sc.BindDir, sc.User)
	}
	for name, dir := range map[string]string{
		"the worker's directory itself": filepath.Join(root, "w-1"),
		"another worker's":              other,
		"a link out of it":              link,
		"a path that does not exist":    filepath.Join(root, "w-1", "nope"),
	} {
		if err := shareProcessDir(p, w, dir, &docker.StepContainer{}); err == nil {
			t.Errorf("%s (%s) was shared", name, dir)
		}
	}
}
