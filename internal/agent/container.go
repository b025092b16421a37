package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// containerRunner runs a job's script in its execution container. The
// worker holds no Docker socket: the server starts the container beside
// the worker, sharing the job's directory, and puts its output in the task
// log; the runner writes the script there and waits for the container's
// end.
type containerRunner struct {
	workerID string
	client   *client
	// fingerprint is the server certificate's, for scripts that call it.
	fingerprint string
}

var _ Runner = (*containerRunner)(nil)

// Run implements [Runner]. The interpreter is looked for in the container
// image, not on the worker: bash, sh, python3 or pwsh (with -NoProfile
// -File), by name on the image's PATH. Output does not pass through out.
func (r *containerRunner) Run(ctx context.Context, job *api.Job, dir string, _ func(stream, line string)) (int, error) {
	in, ok := interpreters[job.Syntax]
	if !ok {
		return -1, fmt.Errorf("%w %q: want bash, sh, python or pwsh", ErrUnknownSyntax, job.Syntax)
	}
	// The container may run as a user other than the agent's: the job's
	// directory is the step's to write in, on a worker of one tenant.
	if err := os.Chmod(dir, 0o777); err != nil {
		return -1, fmt.Errorf("open the job directory to the container: %w", err)
	}
	args, err := writeScript(job.Syntax, job.Script, dir, 0o644)
	if err != nil {
		return -1, err
	}
	env := map[string]string{EnvWorkerID: r.workerID, EnvTaskID: job.TaskID, EnvStepName: job.Step, EnvServer: r.client.base,
		tlspin.EnvFingerprint: r.fingerprint}
	for k, v := range job.Env {
		env[k] = v
	}
	command := append(append([]string{in.names[0]}, in.args...), args...)
	resp, err := r.client.runContainer(ctx, job.ID, &api.ContainerRunRequest{Dir: dir, Command: command, Env: env})
	if err != nil {
		return -1, err
	}
	if resp.Error != "" {
		return -1, errors.New(resp.Error)
	}
	return resp.ExitCode, nil
}

// runContainer asks the server to run job's execution container and waits
// for its end, however long it runs (no per-attempt timeout). A retried
// attempt, after the server restarted, follows the container the first
// one started rather than starting another.
func (c *client) runContainer(ctx context.Context, jobID string, req *api.ContainerRunRequest) (*api.ContainerRunResponse, error) {
	var resp api.ContainerRunResponse
	path := "/agent/v1/jobs/" + url.PathEscape(jobID) + "/container"
	if _, err := c.call(ctx, http.MethodPost, path, 0, req, &resp); err != nil {
		return nil, fmt.Errorf("run execution container of job %s: %w", jobID, err)
	}
	return &resp, nil
}
