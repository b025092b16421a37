package server

import "context"

// runContextKey marks the context of Server.Run in every request's
// context, so that a handler can tell a request that ended because the
// server is stopping from one whose client hung up.
type runContextKey struct{}

// withRunContext returns ctx, the context of Server.Run, carrying itself
// under runContextKey; it is the base of every request's context.
func withRunContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, runContextKey{}, ctx)
}

// serverStopping reports whether the server that took the request of
// ctx is stopping (its Run context ended).
func serverStopping(ctx context.Context) bool {
	run, ok := ctx.Value(runContextKey{}).(context.Context)
	return ok && run.Err() != nil
}
