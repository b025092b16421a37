package api

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// The agent protocol, under /agent/v1. A worker's agent:
//
//  1. POST /agent/v1/register with the one-time registration token it was
//     created with (Authorization: Bearer <token>); the answer carries the
//     credential scoped to its one worker, used as the bearer token for
//     every later call.
//  2. POST /agent/v1/heartbeat every HeartbeatInterval.
//  3. GET /agent/v1/jobs/next?wait=30s&running=ID… long-polls for a job
//     other than those it runs (one running=ID each): 200 with a Job, or
//     204 when none arrived in time. A worker of a pool of capacity N runs
//     up to N jobs at once, so it polls again while jobs run.
//  4. POST /agent/v1/jobs/{id}/log with output lines as they come; the answer
//     says whether the job was canceled.
//  5. POST /agent/v1/jobs/{id}/complete with the exit code.
//
// A job with a Container runs in an execution container that the server
// starts beside the worker (the worker holds no Docker socket): the agent
// writes the script into the job's directory and calls
// POST /agent/v1/jobs/{id}/container, which answers when the container has
// ended; the server puts the container's output in the task log itself.

// RegisterResponse is the answer to POST /agent/v1/register.
type RegisterResponse struct {
	WorkerID   string `json:"worker_id"`
	Credential string `json:"credential"`
	// HeartbeatInterval is how often the agent must call heartbeat, as a
	// Go duration string.
	HeartbeatInterval string `json:"heartbeat_interval"`
}

// HeartbeatRequest is the body of POST /agent/v1/heartbeat. An empty body
// (an agent older than this field) counts as no running job.
type HeartbeatRequest struct {
	// RunningJobs are the ids of the jobs the agent runs now, at most one
	// for the agents of this version. The server answers with those of
	// them it no longer counts as running on this worker (CancelJobs), and
	// keeps an unavailable static worker unavailable until it is empty.
	RunningJobs []string `json:"running_jobs,omitempty"`
	// AgentVersion is the agent's build, shown in the worker list.
	AgentVersion string `json:"agent_version,omitempty"`
	// HealthCheck is the outcome of a health check that ended since the
	// last heartbeat, sent once.
	HealthCheck *HealthCheckResult `json:"health_check,omitempty"`
}

// HealthCheckResult is the outcome of one health check an agent ran.
type HealthCheckResult struct {
	// Status is HealthHealthy, HealthWarning or HealthFailed.
	Status string `json:"status"`
	// Message is the last lines of its output, or why it could not run
	// (at most MaxHealthMessage bytes; the server cuts a longer one).
	Message string `json:"message,omitempty"`
	// Key is the HealthCheck.Key of the check that ran: the server
	// ignores an outcome of a check that is not its pool's current one
	// (a script changed while it ran).
	Key string `json:"key"`
}

// Key identifies what health check hc runs, from the fields that say
// what it checks (Syntax as the server sends it, filled in, and Script;
// not Interval nor Timeout): hex of the first 16 bytes of the SHA-256 of
// both. An outcome carries it (HealthCheckResult.Key).
func (hc *HealthCheck) Key() string {
	sum := sha256.Sum256([]byte(hc.Syntax + "\x00" + hc.Script))
	return hex.EncodeToString(sum[:16])
}

// MaxHealthMessage bounds HealthCheckResult.Message, in bytes.
const MaxHealthMessage = 1024

// HeartbeatResponse is the answer to POST /agent/v1/heartbeat.
type HeartbeatResponse struct {
	// CancelJobs lists jobs the agent must stop: those of this worker whose
	// task was canceled, and those of RunningJobs the server already ended
	// (failed because the worker was unavailable, canceled, or not this
	// worker's).
	CancelJobs []string `json:"cancel_jobs,omitempty"`
	// HeartbeatInterval, a Go duration, is how often the agent must call
	// heartbeat from now on: a static pool's machine policy may change
	// after its machines registered.
	HeartbeatInterval string `json:"heartbeat_interval,omitempty"`
	// HealthCheck is the health check of a static worker's pool, every
	// field filled in; nil for none. The agent runs it while it runs no
	// job, at once when it is new or changed, then every Interval.
	HealthCheck *HealthCheck `json:"health_check,omitempty"`
}

// Job is one step handed to an agent.
type Job struct {
	ID     string `json:"id"`
	TaskID string `json:"task_id"`
	Step   string `json:"step"`
	Syntax string `json:"syntax"`
	Script string `json:"script"`
	// Env holds extra environment variables for the script: the image's
	// tool paths, the job's credential (DYNPOOL_JOB_ID, DYNPOOL_JOB_TOKEN)
	// and the task's variables.
	Env map[string]string `json:"env,omitempty"`
	// Masks are the task's sensitive values, which the agent masks in the
	// output before it uploads it (the server masks them again).
	Masks []string `json:"masks,omitempty"`
	// Container, when set, is the execution container the script runs in.
	Container *Container `json:"container,omitempty"`
}

// ContainerRunRequest is the body of POST /agent/v1/jobs/{id}/container.
type ContainerRunRequest struct {
	// Dir is the job's directory on the worker, an absolute path inside
	// the agent's work directory; it is the container's working directory
	// and is shared with it.
	Dir string `json:"dir"`
	// Command is the interpreter and the script's path inside Dir, e.g.
	// ["bash", "/work/job-1/script.sh"].
	Command []string `json:"command"`
	// Env is the script's environment.
	Env map[string]string `json:"env,omitempty"`
}

// ContainerRunResponse is the answer to a container run: the script's
// exit code, or -1 and Error saying why the container could not run
// (e.g. its image could not be pulled, with the registry's message).
type ContainerRunResponse struct {
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}

// Output streams of an agent log line.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// AgentLogLine is one line of script output.
type AgentLogLine struct {
	Time    time.Time `json:"time"`
	Stream  string    `json:"stream"`
	Message string    `json:"message"`
}

// AgentLogRequest is the body of POST /agent/v1/jobs/{id}/log.
type AgentLogRequest struct {
	Lines []AgentLogLine `json:"lines"`
}

// AgentLogResponse is the answer to a log upload.
type AgentLogResponse struct {
	Canceled bool `json:"canceled"`
}

// CompleteRequest is the body of POST /agent/v1/jobs/{id}/complete.
// ExitCode is the script's exit status; Error, when set, says why the
// script could not run or was stopped (ExitCode is then -1).
type CompleteRequest struct {
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}
