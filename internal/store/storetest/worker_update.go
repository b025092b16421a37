package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
)

func testWorkerUpdate(t *testing.T, open opener) {
	t.Run("SetsEveryField", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		w := newWorker(t, s, "w1", "t1", "p1", api.WorkerProvisioning, 0, func(w *store.Worker) {
			w.RegistrationHash = "reg"
		})
		p := &store.WorkerUpdateParams{ID: "w1", FromStates: []string{api.WorkerProvisioning}, State: api.WorkerIdle,
			ResourceID: ptr("pid-42"), RegistrationHash: ptr(""), CredentialHash: ptr("cred"),
			RegisteredAt: ptr(at(time.Second)), LeasedAt: ptr(at(2 * time.Second)), LastUsedAt: ptr(at(3 * time.Second)),
			LastHeartbeatAt: ptr(at(4 * time.Second)), DestroyAt: ptr(at(time.Hour)), DestroyedAt: ptr(at(2 * time.Hour)),
			DestroyReason: ptr(api.DestroyMaxLifetime), AgentVersion: ptr("v1.2.3"), Disabled: ptr(true),
			HealthStatus: ptr(api.HealthFailed), HealthMessage: ptr("docker: not running"), HealthCheckedAt: ptr(at(5 * time.Second))}
		got, err := s.WorkerUpdate(t.Context(), p)
		must(t, "update", err)
		want := *w
		want.State, want.ResourceID, want.RegistrationHash, want.CredentialHash = api.WorkerIdle, "pid-42", "", "cred"
		want.RegisteredAt, want.LeasedAt, want.LastUsedAt = p.RegisteredAt, p.LeasedAt, p.LastUsedAt
		want.LastHeartbeatAt, want.DestroyAt, want.DestroyedAt = p.LastHeartbeatAt, p.DestroyAt, p.DestroyedAt
		want.DestroyReason, want.AgentVersion, want.Disabled = api.DestroyMaxLifetime, "v1.2.3", true
		want.HealthStatus, want.HealthMessage, want.HealthCheckedAt = api.HealthFailed, "docker: not running", p.HealthCheckedAt
		check(t, "WorkerUpdate result", got, &want)
		stored, err := s.WorkerGet(t.Context(), "w1")
		must(t, "get", err)
		check(t, "worker after update", stored, &want)
	})
	t.Run("KeepsNilFields", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		w := newWorker(t, s, "w1", "t1", "p1", api.WorkerIdle, 0, func(w *store.Worker) {
			w.ResourceID, w.CredentialHash, w.LastUsedAt, w.DestroyAt = "pid-1", "cred", ptr(at(time.Minute)), ptr(at(time.Hour))
		})
		got, err := s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1", LastHeartbeatAt: ptr(at(time.Second))})
		must(t, "update heartbeat only", err)
		want := *w
		want.LastHeartbeatAt = ptr(at(time.Second))
		check(t, "worker after a heartbeat (state kept, other fields kept)", got, &want)
		got, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1"})
		must(t, "update nothing", err)
		check(t, "worker after an empty update", got, &want)
	})
	t.Run("CompareAndSet", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		w := newWorker(t, s, "w1", "t1", "p1", api.WorkerBusy, 0, nil)
		_, err := s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1",
			FromStates: []string{api.WorkerIdle, api.WorkerProvisioning}, State: api.WorkerDestroying,
			DestroyReason: ptr(api.DestroyIdleTimeout)})
		wantErr(t, "update from a state the worker is not in", err, store.ErrConflict)
		got, err := s.WorkerGet(t.Context(), "w1")
		must(t, "get", err)
		check(t, "worker after a failed compare-and-set (unchanged)", got, w)

		got, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1",
			FromStates: []string{api.WorkerIdle, api.WorkerBusy}, State: api.WorkerIdle, LastUsedAt: ptr(at(time.Minute))})
		must(t, "update from the current state", err)
		if got.State != api.WorkerIdle || got.LastUsedAt == nil {
			t.Errorf("after compare-and-set: state %s last used %v, want idle and set", got.State, got.LastUsedAt)
		}
		got, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1", State: api.WorkerLost})
		must(t, "unconditional update", err)
		if got.State != api.WorkerLost {
			t.Errorf("after unconditional update: state %s, want lost", got.State)
		}
	})
	t.Run("HeartbeatGuard", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		w := newWorker(t, s, "w1", "t1", "p1", api.WorkerIdle, 0, func(w *store.Worker) {
			w.LastHeartbeatAt = ptr(at(time.Minute))
		})
		_, err := s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1", FromStates: []string{api.WorkerIdle},
			HeartbeatBefore: ptr(at(time.Minute)), State: api.WorkerUnavailable})
		wantErr(t, "mark unavailable a worker that heartbeated at the threshold", err, store.ErrConflict)
		got, err := s.WorkerGet(t.Context(), "w1")
		must(t, "get", err)
		check(t, "worker after a failed heartbeat guard (unchanged)", got, w)

		got, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1", FromStates: []string{api.WorkerIdle},
			HeartbeatBefore: ptr(at(time.Minute + time.Millisecond)), State: api.WorkerUnavailable})
		must(t, "mark unavailable a worker silent since before the threshold", err)
		if got.State != api.WorkerUnavailable {
			t.Errorf("after the heartbeat guard held: state %s, want unavailable", got.State)
		}
		newWorker(t, s, "w2", "t1", "p1", api.WorkerIdle, 0, nil)
		_, err = s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w2", HeartbeatBefore: ptr(at(0)), State: api.WorkerUnavailable})
		must(t, "guard a worker that never heartbeated", err)
	})
	t.Run("HealthGuards", func(t *testing.T) {
		// Two heartbeats recording an outcome at once: the status each
		// read, and the last recorded time, guard the write, so only one
		// of them changes the status.
		t.Parallel()
		s := open(t)
		newWorker(t, s, "w1", "t1", "p1", api.WorkerIdle, 0, func(w *store.Worker) {
			w.HealthStatus, w.HealthCheckedAt = api.HealthHealthy, ptr(at(time.Minute))
		})
		record := func(status, was string, notAfter time.Duration) error {
			_, err := s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w1", HealthStatus: ptr(status),
				HealthCheckedAt: ptr(at(2 * time.Minute)), HealthStatusIs: ptr(was), HealthCheckedNotAfter: ptr(at(notAfter))})
			return err
		}
		wantErr(t, "record over a status that changed meanwhile", record(api.HealthFailed, api.HealthWarning, time.Minute), store.ErrConflict)
		wantErr(t, "record too soon after the last outcome", record(api.HealthFailed, api.HealthHealthy, time.Minute-time.Millisecond), store.ErrConflict)
		must(t, "record when both guards hold", record(api.HealthFailed, api.HealthHealthy, time.Minute))
		wantErr(t, "the same record again", record(api.HealthFailed, api.HealthHealthy, time.Minute), store.ErrConflict)
		got, err := s.WorkerGet(t.Context(), "w1")
		must(t, "get", err)
		if got.HealthStatus != api.HealthFailed || got.HealthCheckedAt == nil || !got.HealthCheckedAt.Equal(at(2*time.Minute)) {
			t.Errorf("after the guarded record: %q at %v", got.HealthStatus, got.HealthCheckedAt)
		}
	})
	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, from := range [][]string{nil, {api.WorkerIdle}} {
			_, err := s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "missing", FromStates: from, State: api.WorkerBusy})
			wantErr(t, "update unknown worker", err, store.ErrNotFound)
		}
	})
	t.Run("CredentialConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newWorker(t, s, "w1", "t1", "p1", api.WorkerIdle, 0, func(w *store.Worker) { w.CredentialHash = "cred" })
		newWorker(t, s, "w2", "t1", "p1", api.WorkerProvisioning, 0, nil)
		_, err := s.WorkerUpdate(t.Context(), &store.WorkerUpdateParams{ID: "w2", State: api.WorkerIdle, CredentialHash: ptr("cred")})
		wantErr(t, "update to a taken credential hash", err, store.ErrConflict)
	})
}
