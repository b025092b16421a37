// Package sim is the simulated provider ("sim"): workers that are no
// machines at all, so the control plane can be driven at the scale of
// thousands of tenants and workers on one computer (dynpool bench, scale
// tests, `dynpool server --provider sim`).
//
// # Flow
//
// [Provider.Create] waits [Config.CreateLatency] on the injected clock,
// fails with [ErrSimulatedFailure] at [Config.CreateFailureRate] (drawn
// from a random source seeded by [Config.Seed], so a run repeats), and
// otherwise records a machine in the [Cloud] and starts its agent in a
// goroutine of this process: by default the real agent loop of package
// agent ([agent.Run]), talking HTTP to the server at
// provider.CreateParams.ServerURL like any worker, with a [Runner] that
// prints [Config.Output] and completes each step after
// [Config.StepDuration] instead of starting a shell.
// [Provider.Destroy] stops the agent, waits [Config.DestroyLatency] and
// forgets the machine; [Provider.List] lists the machines of the
// provider's installation.
//
// The agents share one HTTP client that speaks HTTP/2 without TLS (h2c)
// with prior knowledge, so ten thousand agents, each holding a job
// long-poll and sending heartbeats, need a few dozen connections instead
// of ten thousand (two file descriptors each, in this one process). The
// server accepts h2c for that reason. [Config.HTTPClient] replaces it.
//
// Machines live in a [Cloud], which outlives a Provider when shared: a
// second Provider of the same installation on the same Cloud (a restarted
// server in one process, as the conformance suite plays it) lists and
// destroys what the first created. By default each Provider has a Cloud
// of its own, since in-process agents end with the process anyway.
package sim
