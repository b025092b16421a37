// Package task runs tasks: deployments and runbooks made of ordered steps,
// each run on a worker acquired from its pool for that step alone.
//
// # Flow
//
// [Runner.Submit] validates a request and writes the task and its steps
// (queued) before anything runs. One goroutine per task then runs the
// steps in order: it resolves the step's pool to an image build in the
// catalog (failing at once on a decommissioned image, warning on a
// preview or deprecated one), acquires a worker from the fleet, and
// records the worker on the step. The worker's agent takes the step as a
// job through [Runner.NextJob], streams output through
// [Runner.AppendOutput] and ends it with [Runner.Complete]; the task
// goroutine then releases the worker. A failed step fails the task and
// skips the rest.
//
// Every state change is written to the store before it is acted on, so
// [Runner.Start] can pick up after a crash: finished steps are not run
// again, a step whose job no agent took yet is handed out again or
// re-run, and a step whose worker is lost ends failed with the reason.
package task
