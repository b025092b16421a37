package providertest

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/provider"
)

// testSupports checks that the provider has a name and supports the image
// the suite creates its workers of.
func (s *suite) testSupports(t *testing.T) {
	_, p := s.fresh(t)
	if p.Name() == "" {
		t.Errorf("Name is empty")
	}
	img := s.agent(t)
	if err := p.Supports(img.os, map[string]string{p.Name(): img.artifact}); err != nil {
		t.Errorf("Supports(%q, the agent artifact) = %v, want nil", img.os, err)
	}
	err := p.Supports(img.os, map[string]string{p.Name() + "-other": img.artifact})
	if !errors.Is(err, provider.ErrUnsupported) {
		t.Errorf("Supports without an artifact for %q = %v, want ErrUnsupported", p.Name(), err)
	}
}

func (s *suite) testCreateListed(t *testing.T) {
	inst, p := s.fresh(t)
	r := create(t, p, inst, "w-1", s.agent(t))
	got := waitListed(t, p, r)
	checkLabels(t, got, inst, "w-1")
}

func (s *suite) testDestroyRemoves(t *testing.T) {
	inst, p := s.fresh(t)
	r := create(t, p, inst, "w-1", s.agent(t))
	waitListed(t, p, r)
	if err := p.Destroy(t.Context(), r.ID); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if rs := list(t, p); len(rs) != 0 {
		t.Errorf("List after Destroy shows workers %q, want none", workers(rs))
	}
}

func (s *suite) testDestroyTwice(t *testing.T) {
	inst, p := s.fresh(t)
	r := create(t, p, inst, "w-1", s.agent(t))
	waitListed(t, p, r)
	if err := p.Destroy(t.Context(), r.ID); err != nil {
		t.Fatalf("first Destroy: %v", err)
	}
	if err := p.Destroy(t.Context(), r.ID); err != nil {
		t.Errorf("second Destroy = %v, want nil", err)
	}
}

func (s *suite) testDestroyUnknown(t *testing.T) {
	_, p := s.fresh(t)
	id := "never-made-" + strings.ToLower(rand.Text()[:12])
	if err := p.Destroy(t.Context(), id); err != nil {
		t.Errorf("Destroy(%q) = %v, want nil", id, err)
	}
}

func (s *suite) testCreateFails(t *testing.T) {
	inst := newInstallation()
	p, os, artifact := s.h.Broken(t, inst)
	r, err := p.Create(t.Context(), params(inst, "w-1", image{os, artifact}))
	if err == nil {
		if r != nil {
			destroyLater(t, p, r.ID)
		}
		t.Fatalf("Create with the broken image (os %q, artifact %q) = %+v, want an error", os, artifact, r)
	}
	// The installation is fresh: nothing at all may be listed, by the
	// provider that failed nor by a new one.
	if rs := list(t, p); len(rs) != 0 {
		t.Errorf("List after a failed Create shows workers %q, want none", workers(rs))
	}
	if rs := list(t, s.h.New(t, inst)); len(rs) != 0 {
		t.Errorf("a new provider's List after a failed Create shows workers %q, want none", workers(rs))
	}
}

func (s *suite) testRestart(t *testing.T) {
	inst, p := s.fresh(t)
	r := create(t, p, inst, "w-1", s.agent(t))
	waitListed(t, p, r)
	restarted := s.h.New(t, inst)
	got := waitListed(t, restarted, r)
	checkLabels(t, got, inst, "w-1")
	if err := restarted.Destroy(t.Context(), r.ID); err != nil {
		t.Fatalf("Destroy by the restarted provider: %v", err)
	}
	if rs := list(t, restarted); len(rs) != 0 {
		t.Errorf("the restarted provider's List after its Destroy shows workers %q, want none", workers(rs))
	}
	if rs := list(t, p); len(rs) != 0 {
		t.Errorf("the first provider's List after the restarted one's Destroy shows workers %q, want none", workers(rs))
	}
}

// testOtherInstallation gives two installations a worker of the same id,
// and the other one a second worker, and checks that neither List nor
// Destroy of the one reaches the other's.
func (s *suite) testOtherInstallation(t *testing.T) {
	img := s.agent(t)
	inst, p := s.fresh(t)
	otherInst, other := s.fresh(t)
	mine := create(t, p, inst, "w-1", img)
	theirs := create(t, other, otherInst, "w-1", img)
	theirs2 := create(t, other, otherInst, "w-2", img)
	waitListed(t, p, mine)
	waitListed(t, other, theirs)
	waitListed(t, other, theirs2)

	rs := list(t, p)
	if len(rs) != 1 || rs[0].ID != mine.ID {
		t.Errorf("List shows workers %q, want only its own w-1", workers(rs))
	}
	for _, r := range rs {
		if r.Labels[provider.LabelInstallation] != inst {
			t.Errorf("List shows resource %s of installation %q", r.ID, r.Labels[provider.LabelInstallation])
		}
	}

	// The result is not checked: refusing a foreign resource and treating
	// it as already gone both keep the contract. What counts is that it
	// lives on. Its id may equal one of ours (the process provider's ids
	// are worker ids), so it is destroyed before ours.
	if err := p.Destroy(t.Context(), theirs2.ID); err != nil {
		t.Logf("Destroy of another installation's resource: %v", err)
	}
	if byID(list(t, other), theirs2.ID) == nil {
		t.Errorf("Destroy of another installation's resource %s ended it", theirs2.ID)
	}
	if err := p.Destroy(t.Context(), mine.ID); err != nil {
		t.Fatalf("Destroy of its own w-1: %v", err)
	}
	if got := workers(list(t, other)); len(got) != 2 {
		t.Errorf("after Destroy of the same worker id in another installation, its List shows %q, want [w-1 w-2]", got)
	}
}
