package kubetest

import "testing"

func TestExpand(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"A": "x", "B": "$(A)"}
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"$(A)", "x"},
		{"a$(A)b$(A)", "axbx"},
		{"$(B)", "$(A)"}, // values are not expanded again
		{"$$(A)", "$(A)"},
		{"$$$$", "$$"},
		{"$(MISSING)", "$(MISSING)"},
		{"$(A", "$(A"},
		{"$A $", "$A $"},
	} {
		if got := expand(tt.in, vars); got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
