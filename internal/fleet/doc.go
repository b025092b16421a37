// Package fleet owns the life of every worker: creating it on demand,
// leasing it to one tenant, handing it to one step at a time, and
// destroying it when it has been idle too long, is too old, or is lost.
//
// # Flow
//
// [Fleet.Acquire] serves one step. It leases the least recently used idle
// worker of the step's tenant, pool, image and build (the store's
// WorkerAcquireIdle, atomic), or else creates one: the worker row is
// written first (provisioning, leased to the tenant, with a hashed one-time
// registration token), then the provider starts the machine, and Acquire
// waits until the agent calls [Fleet.Register]. [Fleet.Release] returns
// the worker to idle when its step ends, or destroys it at once when it
// has reached its max lifetime (invariant 4 of the design).
//
// A worker never changes tenant: the tenant is set when the row is
// written and Acquire only matches workers of the asking tenant
// (invariant 1).
//
// The reaper ([Fleet.Start]) ticks every [Config.ReaperPeriod] on the
// injected clock. Each tick destroys idle workers whose destroy_at has
// passed (idle timeout or max lifetime) and provisioning workers that did
// not register in time; its cost follows what expires, through the
// store's index on destroy_at. Every [Config.ReconcilePeriod] it also
// compares the provider's resources with the store: resources the store
// does not know as live are orphans and destroyed; live workers whose
// resource is gone, or whose agent stopped sending heartbeats, are lost,
// and [Config.OnLost] is told so their steps fail with the reason.
package fleet
