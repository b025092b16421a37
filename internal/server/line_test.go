package server_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/server"
)

// Two replicas share one waiting line per tenant and pool: steps that
// wait for the pool's only worker get it in the order they came, whichever
// replica runs each (each replica used to keep a line of its own, and the
// two firsts raced for every free worker).
func TestReplicasShareTheWaitingLine(t *testing.T) {
	t.Parallel()
	dbURL := postgresURL(t)
	replicas := []*testServer{
		startServer(t, func(c *server.Config) { c.DatabaseURL = dbURL }),
		startServer(t, func(c *server.Config) { c.DatabaseURL = dbURL }),
	}
	tn, err := replicas[0].admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	clients := []*client.Client{clientFor(replicas[0], tn.APIKey), clientFor(replicas[1], tn.APIKey)}
	if _, err := clients[0].CreatePool(t.Context(), api.CreatePoolRequest{Name: "Linux", Image: "ubuntu-default", MaxWorkers: 1}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gate, order := filepath.Join(dir, "gate"), filepath.Join(dir, "order")
	holder, err := clients[0].CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{
		{Script: fmt.Sprintf("echo holding; while [ ! -e %s ]; do sleep 0.05; done", gate)}}})
	if err != nil {
		t.Fatal(err)
	}
	logSays := func(c *client.Client, id, text string) func() bool {
		return func() bool {
			lines, _ := c.TaskLog(t.Context(), id)
			for _, l := range lines {
				if strings.Contains(l.Message, text) {
					return true
				}
			}
			return false
		}
	}
	eventually.Holds(t, "the first task to hold the pool's only worker", 30*time.Second, logSays(clients[0], holder.ID, "holding"))
	const waiters = 6
	ids := make([]string, waiters)
	for i := range waiters {
		c := clients[i%2] // replicas take turns
		task, err := c.CreateTask(t.Context(), api.CreateTaskRequest{Steps: []api.StepRequest{
			{Script: fmt.Sprintf("echo %d >> %s", i, order)}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = task.ID
		eventually.Holds(t, fmt.Sprintf("task %d to wait for a worker", i), 30*time.Second, logSays(c, task.ID, "Waiting for a worker"))
	}
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i, task := range followAll(t, clients[0], ids...) {
		if task.State != api.StateSuccess {
			t.Fatalf("waiter %d ended %s: %s", i, task.State, task.Error)
		}
	}
	got, err := os.ReadFile(order)
	if err != nil {
		t.Fatal(err)
	}
	if want := "0\n1\n2\n3\n4\n5\n"; string(got) != want {
		t.Errorf("the waiters ran in the order %q, want %q (first in, first out across replicas)", got, want)
	}
}
