package docker

import (
	"slices"
	"testing"
)

// A standby worker waits on the standby network; bound to a tenant it is
// on that tenant's network only, and its Destroy removes both networks.
func TestStandbyContainerMovesToItsTenantsNetwork(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	r := create(t, p, "w-1", "")
	networks := func() []string {
		t.Helper()
		info, err := p.client.ContainerInspect(t.Context(), r.ID)
		if err != nil {
			t.Fatalf("inspect: %v", err)
		}
		var names []string
		for name := range info.NetworkSettings.Networks {
			names = append(names, name)
		}
		slices.Sort(names)
		return names
	}
	if got, want := networks(), []string{p.networkName("")}; !slices.Equal(got, want) {
		t.Fatalf("standby worker's networks = %v, want %v", got, want)
	}
	if err := p.Bind(t.Context(), r.ID, "t-1"); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	if got, want := networks(), []string{p.networkName("t-1")}; !slices.Equal(got, want) {
		t.Fatalf("bound worker's networks = %v, want %v", got, want)
	}
	if err := p.Bind(t.Context(), r.ID, "a b"); err == nil {
		t.Error("Bind to an invalid tenant id succeeded")
	}
	destroy(t, p, r.ID)
	for _, tenant := range []string{"", "t-1"} {
		if networkExists(t, p, p.networkName(tenant)) {
			t.Errorf("network %s left after its last worker", p.networkName(tenant))
		}
	}
}
