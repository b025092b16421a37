package providertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/provider"
)

// concurrentWorkers is how many workers testConcurrent creates at once.
const concurrentWorkers = 8

// testConcurrent creates workers at once, then destroys half of them
// while creating as many new ones and listing all the while, and checks
// that List shows each live worker exactly once, under the id Create
// returned, and none that was destroyed.
func (s *suite) testConcurrent(t *testing.T) {
	img := s.agent(t)
	inst, p := s.fresh(t)
	ids := make(map[string]string) // worker → resource id

	first := names(0, concurrentWorkers)
	s.createAll(t, p, inst, img, first, ids)
	if t.Failed() {
		t.FailNow()
	}
	waitExactly(t, p, inst, first, ids)

	gone, kept := first[:concurrentWorkers/2], first[concurrentWorkers/2:]
	added := names(concurrentWorkers, concurrentWorkers/2)
	stop := make(chan struct{})
	listErrs := make(chan []string, 1)
	go func() { listErrs <- listUntil(t.Context(), p, inst, stop) }()
	var wg sync.WaitGroup
	destroyErrs := make([]error, len(gone))
	for i, w := range gone {
		id := ids[w] // read here: createAll writes ids meanwhile
		wg.Go(func() { destroyErrs[i] = p.Destroy(t.Context(), id) })
	}
	s.createAll(t, p, inst, img, added, ids)
	wg.Wait()
	close(stop)
	for _, e := range <-listErrs {
		t.Error(e)
	}
	for i, err := range destroyErrs {
		if err != nil {
			t.Errorf("Destroy %s: %v", gone[i], err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	rs := list(t, p)
	for _, w := range gone {
		if byID(rs, ids[w]) != nil {
			t.Errorf("List shows %s after its Destroy returned", w)
		}
	}
	waitExactly(t, p, inst, slices.Concat(kept, added), ids)
}

// names returns n worker ids from w-<from>.
func names(from, n int) []string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = fmt.Sprintf("w-%d", from+i)
	}
	return ws
}

// createAll creates workers at once, records their resource ids in ids,
// and destroys them in cleanup. It reports a failed Create with t.Errorf
// and goes on, so the caller can stop what runs alongside first.
func (s *suite) createAll(t *testing.T, p provider.Provider, inst string, img image, ws []string, ids map[string]string) {
	t.Helper()
	rs := make([]*provider.Resource, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Go(func() { rs[i], errs[i] = p.Create(t.Context(), params(inst, w, img)) })
	}
	wg.Wait()
	for i, w := range ws {
		switch {
		case errs[i] != nil:
			t.Errorf("Create %s: %v", w, errs[i])
		case rs[i] == nil || rs[i].ID == "":
			t.Errorf("Create %s = %+v, want a resource with an id", w, rs[i])
		default:
			destroyLater(t, p, rs[i].ID)
			ids[w] = rs[i].ID
		}
	}
}

// waitExactly polls List until it shows exactly the workers ws, then
// checks that each is listed once, under the id Create returned, with its
// labels.
func waitExactly(t *testing.T, p provider.Provider, inst string, ws []string, ids map[string]string) {
	t.Helper()
	want := slices.Sorted(slices.Values(ws))
	var rs []*provider.Resource
	eventually.Holds(t, fmt.Sprintf("List to show exactly %q", want), listDeadline, func() bool {
		rs = list(t, p)
		return slices.Equal(workers(rs), want)
	})
	for _, r := range rs {
		if w := r.WorkerID(); r.ID != ids[w] {
			t.Errorf("List shows %s under id %q, want the id %q Create returned", w, r.ID, ids[w])
		}
		checkLabels(t, r, inst, r.WorkerID())
	}
}

// listUntil lists with p until stop is closed, and returns what was wrong:
// a List error, a resource of another installation, or a worker listed
// twice at once. Failing is left to the caller, on the test's goroutine.
// It also returns when ctx is done.
func listUntil(ctx context.Context, p provider.Provider, inst string, stop <-chan struct{}) []string {
	var errs []string
	for {
		rs, err := p.List(ctx)
		if err != nil {
			errs = append(errs, fmt.Sprintf("List during creates and destroys: %v", err))
		}
		seen := make(map[string]bool)
		for _, r := range rs {
			if got := r.Labels[provider.LabelInstallation]; got != inst {
				errs = append(errs, fmt.Sprintf("List during creates and destroys shows %s of installation %q", r.ID, got))
			}
			if seen[r.WorkerID()] {
				errs = append(errs, fmt.Sprintf("List during creates and destroys shows %s twice", r.WorkerID()))
			}
			seen[r.WorkerID()] = true
		}
		select {
		case <-stop:
			return errs
		case <-ctx.Done():
			return errs
		case <-time.After(eventually.Poll):
		}
	}
}
