package catalog

import (
	"slices"
	"testing"
)

func TestCacheRefs(t *testing.T) {
	t.Parallel()
	wt := WorkerTools{
		OSLinux:   {Image: "worker-tools", Tags: []string{"6.1.0-ubuntu.22.04", "6.0.2-ubuntu.22.04", "5.0.0-ubuntu.18.04"}, Cache: 2},
		OSWindows: {Image: "worker-tools", Tags: []string{"6.1.0-windows.ltsc2022"}, Cache: 2},
	}
	tests := []struct {
		os   string
		want []string
	}{
		{OSLinux, []string{"worker-tools:6.1.0-ubuntu.22.04", "worker-tools:6.0.2-ubuntu.22.04"}},
		{OSWindows, []string{"worker-tools:6.1.0-windows.ltsc2022"}}, // fewer tags than the count
		{"plan9", nil},
	}
	for _, tt := range tests {
		if got := wt.CacheRefs(tt.os); !slices.Equal(got, tt.want) {
			t.Errorf("CacheRefs(%q) = %q, want %q", tt.os, got, tt.want)
		}
	}
	if got := (WorkerTools{OSLinux: {Image: "x", Tags: []string{"1"}, Cache: 0}}).CacheRefs(OSLinux); len(got) != 0 {
		t.Errorf("CacheRefs with cache 0 = %q, want none", got)
	}
}
