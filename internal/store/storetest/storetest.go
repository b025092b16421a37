// Package storetest is the conformance suite every [store.Store] backend
// passes. A backend's test calls [Run] with a function that opens a fresh,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
//			if err != nil {
//				t.Fatalf("open: %v", err)
//			}
//			return s
//		})
//	}
//
// The suite holds the rules callers rely on beyond the method signatures:
// times come back in UTC and equal to what was written (microsecond
// precision), nil optional fields stay nil, empty state filters match every
// state, a row naming an unknown tenant or task is ErrNotFound, and the
// concurrency guarantees of LogAppend, WorkerAcquireIdle, TaskClaim and
// InstallationID.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// Run runs the whole suite. open returns a new, empty store for the test
// it is given; the suite closes it when that test ends. Subtests run in
// parallel, each with its own store.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	opener := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close store: %v", err)
			}
		})
		return s
	}
	t.Run("Tenant", func(t *testing.T) { testTenant(t, opener) })
	t.Run("APIKey", func(t *testing.T) { testAPIKey(t, opener) })
	t.Run("Pool", func(t *testing.T) { testPool(t, opener) })
	t.Run("Task", func(t *testing.T) { testTask(t, opener) })
	t.Run("TaskList", func(t *testing.T) { testTaskList(t, opener) })
	t.Run("TaskClaim", func(t *testing.T) { testTaskClaim(t, opener) })
	t.Run("Step", func(t *testing.T) { testStep(t, opener) })
	t.Run("Log", func(t *testing.T) { testLog(t, opener) })
	t.Run("Worker", func(t *testing.T) { testWorker(t, opener) })
	t.Run("WorkerUpdate", func(t *testing.T) { testWorkerUpdate(t, opener) })
	t.Run("WorkerAcquireIdle", func(t *testing.T) { testWorkerAcquireIdle(t, opener) })
	t.Run("WorkerLeaseStandby", func(t *testing.T) { testWorkerLeaseStandby(t, opener) })
	t.Run("InstallationID", func(t *testing.T) { testInstallationID(t, opener) })
	t.Run("RegistrationToken", func(t *testing.T) { testRegistrationToken(t, opener) })
	t.Run("Variable", func(t *testing.T) { testVariable(t, opener) })
	t.Run("Artifact", func(t *testing.T) { testArtifact(t, opener) })
	t.Run("StepTemplate", func(t *testing.T) { testStepTemplate(t, opener) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, opener) })
	t.Run("Line", func(t *testing.T) { testLine(t, opener) })
}

// opener gives a subtest its own store.
type opener func(t *testing.T) store.Store

// t0 is the base time of every fixture: microsecond precision, the finest
// every backend keeps, and outside UTC so the suite sees it converted.
var t0 = time.Date(2026, 3, 1, 14, 30, 0, 123456000, time.FixedZone("CET", 3600))

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// wantErr fails t unless err wraps target; what names the call.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want %v", what, err, target)
	}
}

// must fails t now when err is not nil; what names the call.
func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// check fails t when got differs from want; what names the value.
func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); d != "" {
		t.Errorf("%s differs:\n%s", what, d)
	}
}
