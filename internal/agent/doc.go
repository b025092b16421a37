// Package agent is the worker side of dynpool: the loop `dynpool agent`
// runs on every worker machine.
//
// # Flow
//
// [Run] registers with the server using the one-time registration token
// the provider gave the worker, and from then on authenticates with the
// credential the server answered, scoped to this one worker:
//
//  1. POST /agent/v1/register → worker id, credential, heartbeat interval.
//  2. A goroutine calls POST /agent/v1/heartbeat every interval with the
//     jobs running here; the answer lists jobs to cancel (canceled tasks,
//     and jobs the server already ended, such as a step it failed while
//     this agent was unreachable). For a machine of a static pool with a
//     health check, the answer carries the check; another goroutine runs
//     it through the same [Runner] while no job runs (a job that arrives
//     stops it), and the next heartbeat reports its outcome (health.go).
//  3. GET /agent/v1/jobs/next long-polls for a job (200 with a job, 204 when
//     none came within [Config.PollWait]).
//  4. The job's script runs through a [Runner] in a fresh directory under
//     [Config.WorkDir]; its stdout and stderr lines are uploaded as they
//     come (POST /agent/v1/jobs/{id}/log), batched every 200 ms and at
//     most 500 lines or 512 KiB of messages per upload.
//  5. POST /agent/v1/jobs/{id}/complete reports the exit code; then back
//     to 3.
//
// Errors are split in two. Network errors, 5xx and 429 are retryable: the
// call is retried with exponential backoff (100 ms doubling up to 5 s)
// until [Config.ServerUnreachableTimeout] has passed since its first
// failure, so a server restart does not end the workers. 401, 403 and (for worker-level calls) 404 mean the worker is gone:
// Run logs it and returns nil. 400 and other 4xx mean a bug on one side:
// Run returns the error.
package agent
