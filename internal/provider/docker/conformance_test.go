package docker

import (
	"testing"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/providertest"
)

// TestConformance runs the provider conformance suite against the engine.
// The stand-in agent is the provider's AgentBinary (a script that sleeps),
// run in the test image; the broken Create names an image that is not on
// the engine.
func TestConformance(t *testing.T) {
	t.Parallel()
	needEngine(t)
	agent := standIn(t, sleeper) // outlives the subtests
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, installation string) provider.Provider {
			return newProviderOf(t, installation, agent)
		},
		Agent: func(*testing.T) (string, string) { return "linux", testImage },
		Broken: func(t *testing.T, installation string) (provider.Provider, string, string) {
			return newProviderOf(t, installation, agent), "linux", "dynpool-test/no-such-image:1"
		},
	})
}
