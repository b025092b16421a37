// Package bench measures dynpool on the machine it runs on and reports one
// table: how long a step waits for a worker, how many steps the control
// plane carries, what the reaper and reconciler cost, how much memory live
// workers take, and how fast a step's log streams. `dynpool bench` prints
// the [Report]; its figures never decide whether a test passes.
//
// # Flow
//
// [Run] runs the scenarios [Options.Only] selects, one after the other,
// each against servers of its own (in this process, on loopback, with a
// temporary data directory) so they do not disturb each other:
//
//   - warm and cold step start with the process provider, beside the bare
//     cost of starting the same shell (os/exec); cold start with the docker
//     provider beside a bare container run of the same image through the
//     Engine API, when an engine answers;
//   - throughput with the sim provider at several tenant counts, on SQLite
//     and, given a URL, on PostgreSQL, and the memory of the server with
//     the largest fleet;
//   - reaper and reconciler ticks on a store seeded directly with live
//     workers;
//   - log streaming of a step that prints [LogBytes].
//
// Each figure is a rate or p50/p99 of several samples. A scenario that
// cannot run here (no engine, no PostgreSQL) or whose feature does not
// exist yet gives its rows a note instead of a figure.
package bench
