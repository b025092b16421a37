// Package providertest is the conformance suite every [provider.Provider]
// passes (process now, docker and kubernetes later), in the way River's
// drivers share one suite. A provider's own test adapts it with a
// [Harness] and calls [Run].
//
// The suite reads the contract of provider.Provider as follows:
//   - a created resource appears in List, under the ID Create returned,
//     with the installation, worker and tenant labels, within a deadline
//     (the suite polls; the condition ends the wait);
//   - once Destroy returns, List no longer shows the resource;
//   - Destroy of a resource already gone, or never made, returns nil;
//   - a failed Create leaves nothing that List shows;
//   - a second provider of the same installation (a restarted server)
//     lists and destroys what the first created;
//   - a provider never lists nor destroys another installation's resources;
//   - concurrent Creates, Destroys and Lists leave List showing each live
//     worker exactly once.
package providertest

import (
	"context"
	"crypto/rand"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/provider"
)

// Harness adapts one provider to the suite.
type Harness struct {
	// New returns a provider of a fresh installation of its own (so tests
	// do not see each other's resources); it is called again with the same
	// installation to play a server restart. Installation names are short
	// lowercase letters, digits and dashes, valid as a label value
	// anywhere.
	New func(t *testing.T, installation string) provider.Provider
	// Agent returns the CreateParams fields that make the created machine run
	// a long-lived stand-in agent (the suite fills WorkerID, TenantID,
	// Labels, ServerURL, RegistrationToken): OS and Artifact.
	Agent func(t *testing.T) (os, artifact string)
	// Broken returns a provider of installation and the OS and Artifact
	// with which its Create must fail (an image that does not exist, a
	// command that does not exist). It returns a provider because what
	// breaks may be the provider's configuration rather than the params:
	// the process provider's Command decides what runs, and its artifact is
	// always empty. A provider whose params break returns New(t,
	// installation).
	Broken func(t *testing.T, installation string) (p provider.Provider, os, artifact string)
}

const (
	// listDeadline is how long the suite waits for List to show a created
	// resource. It is generous because a condition that holds ends the wait
	// at once: timing never decides a pass.
	listDeadline = 60 * time.Second
	// cleanupTimeout bounds a Destroy in cleanup; the process provider may
	// take 15 s (its SIGTERM grace and SIGKILL wait) for a stubborn worker.
	cleanupTimeout = 60 * time.Second
	// tenant is the tenant of every worker the suite creates.
	tenant = "tenant-1"
	// serverURL is where agents are told to register; nothing listens
	// there, and the stand-in agent never tries.
	serverURL = "http://127.0.0.1:1"
)

// Run runs the suite against the provider h adapts, as parallel subtests
// of t, each with an installation of its own.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil || h.Agent == nil || h.Broken == nil {
		t.Fatal("providertest: the Harness needs New, Agent and Broken")
	}
	s := &suite{h: h}
	tests := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"SupportsTheAgentImage", s.testSupports},
		{"CreateIsListedWithLabels", s.testCreateListed},
		{"DestroyRemovesFromList", s.testDestroyRemoves},
		{"DestroyTwiceIsNil", s.testDestroyTwice},
		{"DestroyUnknownIsNil", s.testDestroyUnknown},
		{"FailedCreateLeavesNothing", s.testCreateFails},
		{"ListSurvivesRestart", s.testRestart},
		{"OtherInstallationUntouched", s.testOtherInstallation},
		{"ConcurrentCreateDestroy", s.testConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t)
		})
	}
}

// suite holds the harness the subtests share.
type suite struct {
	h Harness
}

// image is the OS and artifact of a CreateParams.
type image struct{ os, artifact string }

// fresh returns a new installation and a provider of it.
func (s *suite) fresh(t *testing.T) (string, provider.Provider) {
	t.Helper()
	inst := newInstallation()
	return inst, s.h.New(t, inst)
}

// agent returns the image of the stand-in agent.
func (s *suite) agent(t *testing.T) image {
	t.Helper()
	os, artifact := s.h.Agent(t)
	return image{os, artifact}
}

// newInstallation returns an installation name no other test uses.
func newInstallation() string {
	return "dpt-" + strings.ToLower(rand.Text()[:12])
}

// params returns the CreateParams of worker in installation.
func params(installation, worker string, img image) *provider.CreateParams {
	return &provider.CreateParams{
		WorkerID:          worker,
		TenantID:          tenant,
		OS:                img.os,
		Artifact:          img.artifact,
		ServerURL:         serverURL,
		RegistrationToken: "reg-" + worker,
		Labels:            labels(installation, worker),
	}
}

// labels returns the three labels of worker in installation.
func labels(installation, worker string) map[string]string {
	return map[string]string{
		provider.LabelInstallation: installation,
		provider.LabelWorker:       worker,
		provider.LabelTenant:       tenant,
	}
}

// create creates worker with p, fails the test on an error, and destroys
// the resource in cleanup.
func create(t *testing.T, p provider.Provider, installation, worker string, img image) *provider.Resource {
	t.Helper()
	r, err := p.Create(t.Context(), params(installation, worker, img))
	if err != nil {
		t.Fatalf("Create %s: %v", worker, err)
	}
	if r == nil || r.ID == "" {
		t.Fatalf("Create %s = %+v, want a resource with an id", worker, r)
	}
	destroyLater(t, p, r.ID)
	return r
}

// destroyLater destroys resource id with p when the test ends.
func destroyLater(t *testing.T, p provider.Provider, id string) {
	t.Cleanup(func() {
		// t.Context() is done in cleanups.
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if err := p.Destroy(ctx, id); err != nil {
			t.Errorf("Destroy %s in cleanup: %v", id, err)
		}
	})
}

// list returns p.List, failing the test on an error.
func list(t *testing.T, p provider.Provider) []*provider.Resource {
	t.Helper()
	rs, err := p.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return rs
}

// byID returns the resource with id in rs, or nil.
func byID(rs []*provider.Resource, id string) *provider.Resource {
	i := slices.IndexFunc(rs, func(r *provider.Resource) bool { return r.ID == id })
	if i < 0 {
		return nil
	}
	return rs[i]
}

// workers returns the worker labels of rs, sorted, with repeats.
func workers(rs []*provider.Resource) []string {
	ws := make([]string, 0, len(rs))
	for _, r := range rs {
		ws = append(ws, r.WorkerID())
	}
	slices.Sort(ws)
	return ws
}

// waitListed polls p.List until it shows r, and returns what it shows.
func waitListed(t *testing.T, p provider.Provider, r *provider.Resource) *provider.Resource {
	t.Helper()
	var got *provider.Resource
	eventually.Holds(t, "List to show resource "+r.ID, listDeadline, func() bool {
		got = byID(list(t, p), r.ID)
		return got != nil
	})
	return got
}

// checkLabels reports an error for each of the three labels r lacks or
// holds another value of; other labels are allowed.
func checkLabels(t *testing.T, r *provider.Resource, installation, worker string) {
	t.Helper()
	want := labels(installation, worker)
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got, ok := r.Labels[k]; !ok || got != want[k] {
			t.Errorf("resource %s label %s = %q (present %t), want %q", r.ID, k, got, ok, want[k])
		}
	}
}
