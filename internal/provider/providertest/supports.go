package providertest

import (
	"errors"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/internal/provider"
)

// SupportsCase is one image a provider's Supports is asked about.
// WantErr is "" when the provider must accept the image, else a part of
// the reason it must give (wrapping provider.ErrUnsupported).
type SupportsCase struct {
	Name      string
	OS        string
	Artifacts map[string]string
	WantErr   string
}

// CheckSupports runs each case against p.Supports and checks that p is
// named name. Which images a provider can make is its own, so each
// provider lists its cases; the checking is the same for all.
func CheckSupports(t *testing.T, p provider.Provider, name string, cases []SupportsCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			err := p.Supports(tt.OS, tt.Artifacts)
			if tt.WantErr == "" {
				if err != nil {
					t.Errorf("Supports = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, provider.ErrUnsupported) || !strings.Contains(err.Error(), tt.WantErr) {
				t.Errorf("Supports = %v, want ErrUnsupported saying %q", err, tt.WantErr)
			}
		})
	}
	if p.Name() != name {
		t.Errorf("Name = %q, want %s", p.Name(), name)
	}
}
