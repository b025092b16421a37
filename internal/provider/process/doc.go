// Package process is the embedded default [provider.Provider]: each worker
// is a `dynpool agent` child process of the server, in its own session
// (and process group) and its own work directory <Dir>/<worker-id>/, on
// the server's machine. It makes linux workers only.
//
// # Flow
//
// [Provider.Create] starts the agent with the worker's labels in its
// environment (DYNPOOL_INSTALLATION, DYNPOOL_WORKER_ID, DYNPOOL_TENANT_ID),
// which every script the agent runs inherits. [Provider.List] and
// [Provider.Destroy] find processes by those variables in /proc/<pid>/environ,
// so they see agents started before a server restart (no longer the
// server's children) and scripts that made process groups of their own,
// and never touch another installation's processes.
package process
