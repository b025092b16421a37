package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// newOwnedTask stores and returns a running task of tenant t1 (created d
// after t0) owned by owner until until.
func newOwnedTask(t *testing.T, s store.Store, id, owner string, until *time.Time, d time.Duration) *store.Task {
	t.Helper()
	tk := &store.Task{ID: id, TenantID: "t1", Name: "deploy " + id, State: "running", CreatedAt: at(d),
		Owner: owner, OwnerUntil: until}
	must(t, "create task "+id, s.TaskCreate(t.Context(), tk))
	return tk
}

// getTask returns task id, failing t now when it cannot.
func getTask(t *testing.T, s store.Store, id string) *store.Task {
	t.Helper()
	got, err := s.TaskGet(t.Context(), "", id)
	must(t, "get task "+id, err)
	return got
}

func testTaskClaim(t *testing.T, open opener) {
	t.Run("CreateGetList", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		leased := newOwnedTask(t, s, "leased", "r1", ptr(at(time.Minute)), 0)
		released := newOwnedTask(t, s, "released", "r1", ptr(time.Time{}), time.Second)
		free := newOwnedTask(t, s, "free", "", nil, 2*time.Second)
		for _, want := range []*store.Task{leased, released, free} {
			check(t, "TaskGet of "+want.ID, getTask(t, s, want.ID), want)
		}
		list, err := s.TaskListUnfinished(t.Context())
		must(t, "list unfinished", err)
		check(t, "TaskListUnfinished", list, []*store.Task{leased, released, free})

		// TaskUpdate writes neither Owner nor OwnerUntil.
		upd := *leased
		upd.State, upd.Owner, upd.OwnerUntil = "success", "other", nil
		must(t, "update", s.TaskUpdate(t.Context(), &upd))
		want := *leased
		want.State = "success"
		check(t, "task after update", getTask(t, s, "leased"), &want)
	})
	t.Run("Claim", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		now, until := at(time.Hour), at(2*time.Hour)
		for i, tc := range []struct {
			name     string
			owner    string
			lease    *time.Time
			finished bool
			want     error
		}{
			{"no owner", "", nil, false, nil},
			{"no owner but a lease left", "", ptr(at(90 * time.Minute)), false, nil},
			{"own lease running", "me", ptr(at(90 * time.Minute)), false, nil},
			{"own lease ended", "me", ptr(at(time.Minute)), false, nil},
			{"other's lease running", "other", ptr(at(90 * time.Minute)), false, store.ErrConflict},
			{"other's lease running a microsecond more", "other", ptr(now.Add(time.Microsecond)), false, store.ErrConflict},
			{"other's lease ends now", "other", ptr(now), false, nil},
			{"other's lease ended", "other", ptr(at(time.Minute)), false, nil},
			{"other's lease released", "other", ptr(time.Time{}), false, nil},
			{"other without a lease", "other", nil, false, nil},
			{"finished, no owner", "", nil, true, store.ErrConflict},
			{"finished, own", "me", ptr(at(90 * time.Minute)), true, store.ErrConflict},
			{"finished, other's lease ended", "other", ptr(at(time.Minute)), true, store.ErrConflict},
		} {
			id := fmt.Sprintf("k%02d", i)
			tk := newOwnedTask(t, s, id, tc.owner, tc.lease, 0)
			if tc.finished {
				tk.State, tk.FinishedAt = "success", ptr(at(time.Minute))
				must(t, "finish "+id, s.TaskUpdate(t.Context(), tk))
			}
			err := s.TaskClaim(t.Context(), &store.TaskClaimParams{ID: id, Owner: "me", Until: until, Now: now})
			want := *tk
			if tc.want == nil {
				must(t, "claim ("+tc.name+")", err)
				want.Owner, want.OwnerUntil = "me", ptr(until)
			} else {
				wantErr(t, "claim ("+tc.name+")", err, tc.want)
			}
			check(t, "task after claim ("+tc.name+")", getTask(t, s, id), &want)
		}
		err := s.TaskClaim(t.Context(), &store.TaskClaimParams{ID: "missing", Owner: "me", Until: until, Now: now})
		wantErr(t, "claim unknown task", err, store.ErrNotFound)
	})
	t.Run("Renew", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		tasks := leaseFixture(t, s)
		until := at(time.Hour)
		n, err := s.TaskRenew(t.Context(), "a", until)
		must(t, "renew", err)
		if n != 3 {
			t.Errorf("renewed %d tasks, want 3 (a's unfinished ones)", n)
		}
		for _, id := range []string{"a1", "a2", "a3"} {
			tasks[id].OwnerUntil = ptr(until)
		}
		checkTasks(t, s, tasks, "after renew")
		n, err = s.TaskRenew(t.Context(), "nobody", until)
		must(t, "renew for an owner of nothing", err)
		if n != 0 {
			t.Errorf("renewed %d tasks of an owner of nothing, want 0", n)
		}
	})
	t.Run("Release", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		tasks := leaseFixture(t, s)
		must(t, "release", s.TaskRelease(t.Context(), "a"))
		for _, id := range []string{"a1", "a2", "a3"} {
			tasks[id].OwnerUntil = ptr(time.Time{})
		}
		checkTasks(t, s, tasks, "after release")
		must(t, "release for an owner of nothing", s.TaskRelease(t.Context(), "nobody"))
		checkTasks(t, s, tasks, "after a release of nothing")
		// a1's lease would have run until t0+1m: released, b takes it at t0.
		must(t, "claim a released task", s.TaskClaim(t.Context(),
			&store.TaskClaimParams{ID: "a1", Owner: "b", Until: at(time.Hour), Now: t0}))
		tasks["a1"].Owner, tasks["a1"].OwnerUntil = "b", ptr(at(time.Hour))
		checkTasks(t, s, tasks, "after claiming a released task")
	})
	t.Run("EmptyOwner", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		tasks := leaseFixture(t, s)
		if err := s.TaskClaim(t.Context(), &store.TaskClaimParams{ID: "free", Until: at(time.Hour), Now: t0}); err == nil {
			t.Error("claim for no owner succeeded, want an error")
		}
		if _, err := s.TaskRenew(t.Context(), "", at(time.Hour)); err == nil {
			t.Error("renew for no owner succeeded, want an error")
		}
		if err := s.TaskRelease(t.Context(), ""); err == nil {
			t.Error("release for no owner succeeded, want an error")
		}
		checkTasks(t, s, tasks, "after calls for no owner")
	})
	t.Run("Race", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		const tasks, claimers = 12, 8
		for i := range tasks {
			owner, lease := "", (*time.Time)(nil)
			if i%2 == 1 { // a runner that went away
				owner, lease = "gone", ptr(at(-time.Minute))
			}
			newOwnedTask(t, s, fmt.Sprintf("k%02d", i), owner, lease, time.Duration(i)*time.Second)
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			won   = map[string][]string{}
			start = make(chan struct{})
		)
		for c := range claimers {
			owner := fmt.Sprintf("r%d", c)
			wg.Go(func() {
				<-start
				for i := range tasks {
					id := fmt.Sprintf("k%02d", (i+c)%tasks) // each starts elsewhere
					err := s.TaskClaim(t.Context(), &store.TaskClaimParams{ID: id, Owner: owner,
						Until: at(time.Hour), Now: t0})
					switch {
					case errors.Is(err, store.ErrConflict):
					case err != nil:
						t.Errorf("claim %s for %s: %v", id, owner, err)
					default:
						mu.Lock()
						won[id] = append(won[id], owner)
						mu.Unlock()
					}
				}
			})
		}
		close(start)
		wg.Wait()
		for i := range tasks {
			id := fmt.Sprintf("k%02d", i)
			if len(won[id]) != 1 {
				t.Errorf("task %s claimed by %v, want exactly one claimer", id, won[id])
				continue
			}
			if got := getTask(t, s, id); got.Owner != won[id][0] {
				t.Errorf("task %s owned by %q, want its claimer %q", id, got.Owner, won[id][0])
			}
		}
	})
}

// leaseFixture stores tasks of tenant t1 for the renew and release tests:
// a1, a2, a3 (owner a: lease until t0+1m, released, no lease), aDone
// (owner a, finished), b1 (owner b) and free (no owner).
func leaseFixture(t *testing.T, s store.Store) map[string]*store.Task {
	t.Helper()
	newTenant(t, s, "t1", 0)
	tasks := map[string]*store.Task{
		"a1":    newOwnedTask(t, s, "a1", "a", ptr(at(time.Minute)), 0),
		"a2":    newOwnedTask(t, s, "a2", "a", ptr(time.Time{}), time.Second),
		"a3":    newOwnedTask(t, s, "a3", "a", nil, 2*time.Second),
		"aDone": newOwnedTask(t, s, "aDone", "a", ptr(at(time.Minute)), 3*time.Second),
		"b1":    newOwnedTask(t, s, "b1", "b", ptr(at(time.Minute)), 4*time.Second),
		"free":  newOwnedTask(t, s, "free", "", nil, 5*time.Second),
	}
	done := tasks["aDone"]
	done.State, done.FinishedAt = "success", ptr(at(time.Minute))
	must(t, "finish aDone", s.TaskUpdate(t.Context(), done))
	return tasks
}

// checkTasks compares each stored task with want; when names the moment.
func checkTasks(t *testing.T, s store.Store, want map[string]*store.Task, when string) {
	t.Helper()
	for id, w := range want {
		check(t, "task "+id+" "+when, getTask(t, s, id), w)
	}
}
