package server_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/server"
)

// `dynpool server --data ./dynpool-data`, as the README shows: the
// process provider's agents run in their own directories, so a relative
// data directory must not reach them as such.
func TestRelativeDataDirectory(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base) // not parallel: the working directory is the process's
	t.Cleanup(func() { killWorkers(t, filepath.Join(base, "dynpool-data")) })
	s := startServer(t, func(c *server.Config) { c.DataDir = "dynpool-data" })
	c := s.tenant(t, "acme")
	task, lines := runTask(t, c, api.StepRequest{Script: "echo in $(pwd)"})
	if task.State != api.StateSuccess || !logHas(lines, api.LevelInfo, "in "+filepath.Join(base, "dynpool-data", "workers")) {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	if _, err := os.Stat(filepath.Join(base, "dynpool-data", "dynpool.db")); err != nil {
		t.Errorf("the database is not in ./dynpool-data: %v", err)
	}
}
