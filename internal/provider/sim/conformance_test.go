package sim_test

import (
	"context"
	"testing"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/providertest"
	"github.com/dynpool/dynpool/internal/provider/sim"
)

// TestConformance runs the provider conformance suite. Every provider of
// the suite shares one Cloud, as the machines of a real cloud outlive a
// server; the stand-in agent waits for Destroy instead of calling the
// suite's server, which does not exist. The broken provider fails every
// Create.
func TestConformance(t *testing.T) {
	t.Parallel()
	cloud := sim.NewCloud()
	newProvider := func(t *testing.T, installation string, failureRate float64) provider.Provider {
		t.Helper()
		p, err := sim.New(sim.Config{
			Installation: installation, Cloud: cloud, CreateFailureRate: failureRate,
			RunAgent: func(ctx context.Context, _ *provider.CreateParams) { <-ctx.Done() },
			Logger:   testLogger(t),
		})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { _ = p.Close() })
		return p
	}
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, installation string) provider.Provider {
			return newProvider(t, installation, 0)
		},
		Agent: func(*testing.T) (string, string) { return "linux", "" },
		Broken: func(t *testing.T, installation string) (provider.Provider, string, string) {
			return newProvider(t, installation, 1), "linux", ""
		},
	})
}

func TestSupports(t *testing.T) {
	t.Parallel()
	p, err := sim.New(sim.Config{Installation: "inst"})
	if err != nil {
		t.Fatal(err)
	}
	providertest.CheckSupports(t, p, sim.Name, []providertest.SupportsCase{
		{Name: "linux with a sim artifact", OS: "linux", Artifacts: map[string]string{"sim": ""}},
		{Name: "windows with a sim artifact", OS: "windows", Artifacts: map[string]string{"sim": "", "docker": "ref"}},
		{Name: "no sim artifact", OS: "linux", Artifacts: map[string]string{"process": ""}, WantErr: `no "sim" artifact`},
	})
}
