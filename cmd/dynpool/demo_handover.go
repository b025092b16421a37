package main

import (
	"context"
	"fmt"
	"io"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
)

// reportHandOver shows what the demo's first two steps passed between
// two workers: the output variable and the artifact, and the two worker
// ids. It fails when the steps shared a worker, which the separate pools
// rule out.
func reportHandOver(ctx context.Context, out io.Writer, c *client.Client, task *api.Task) error {
	full, err := c.GetTask(ctx, task.ID)
	if err != nil {
		return fmt.Errorf("get task: %w", err)
	}
	for _, v := range full.OutputVariables {
		fmt.Fprintf(out, "==> output variable %s = %s (set by %q)\n", v.Name, v.Value, v.Step)
	}
	arts, err := c.ListArtifacts(ctx, task.ID)
	if err != nil {
		return fmt.Errorf("list artifacts: %w", err)
	}
	for _, a := range arts {
		fmt.Fprintf(out, "==> artifact %s: %d bytes, sha256 %s (stored by %q)\n", a.Name, a.Size, a.SHA256, a.Step)
	}
	packaged, verified := task.Steps[0].WorkerID, task.Steps[1].WorkerID
	if packaged == verified {
		return fmt.Errorf("the package and verify steps both ran on worker %s; they were meant to run on two", packaged)
	}
	fmt.Fprintf(out, "==> the archive went from worker %s to worker %s through the server\n", packaged, verified)
	return nil
}
