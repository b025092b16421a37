package catalog

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
)

// TestReplayWindows2022Switch replays, day by day from 2023-10-01 to
// 2024-01-31, the public switch of the default Windows image from Windows
// Server 2019 to 2022 (testdata/replay_windows.yaml) as two pools see it:
// "Default" on the windows-default alias and "Pinned" on windows-2019. The
// alias pool moves over on 2023-12-04 without ever being warned; the
// pinned pool is warned from 2023-12-04 and fails from 2024-01-09.
func TestReplayWindows2022Switch(t *testing.T) {
	t.Parallel()
	c, err := Load(filepath.Join("testdata", "replay_windows.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const (
		deprecated     = "Windows Server Core 2019 is deprecated and will be decommissioned on 2024-01-09: edit the pool to use Windows (default) or Windows Server Core 2022"
		decommissioned = `pool "Pinned" uses image Windows Server Core 2019, which was decommissioned on 2024-01-09: edit the pool to use Windows (default) or Windows Server Core 2022`
	)
	pools := map[string]string{"Default": "windows-default", "Pinned": "windows-2019"}
	// Each row holds from its first to its last day, both included.
	tests := []struct {
		pool        string
		first, last time.Time
		image       string
		build       string
		status      string
		warnings    []string
		decommError string // "" for none
	}{
		{"Default", utc(2023, 10, 1), utc(2023, 11, 5), "windows-2019", "2023.09.04", api.ImageStatusActive, nil, ""},
		{"Default", utc(2023, 11, 6), utc(2023, 12, 3), "windows-2019", "2023.11.06", api.ImageStatusActive, nil, ""},
		{"Default", utc(2023, 12, 4), utc(2024, 1, 7), "windows-2022", "2023.10.30", api.ImageStatusActive, nil, ""},
		{"Default", utc(2024, 1, 8), utc(2024, 1, 31), "windows-2022", "2024.01.08", api.ImageStatusActive, nil, ""},
		{"Pinned", utc(2023, 10, 1), utc(2023, 11, 5), "windows-2019", "2023.09.04", api.ImageStatusActive, nil, ""},
		{"Pinned", utc(2023, 11, 6), utc(2023, 12, 3), "windows-2019", "2023.11.06", api.ImageStatusActive, nil, ""},
		{"Pinned", utc(2023, 12, 4), utc(2024, 1, 8), "windows-2019", "2023.11.06", api.ImageStatusDeprecated, []string{deprecated}, ""},
		{"Pinned", utc(2024, 1, 9), utc(2024, 1, 31), "windows-2019", "2023.11.06", api.ImageStatusDecommissioned, nil, decommissioned},
	}
	for pool, ref := range pools {
		for day := utc(2023, 10, 1); !day.After(utc(2024, 1, 31)); day = day.AddDate(0, 0, 1) {
			var rows []int
			for i, tt := range tests {
				if tt.pool == pool && !day.Before(tt.first) && !day.After(tt.last) {
					rows = append(rows, i)
				}
			}
			if len(rows) != 1 {
				t.Fatalf("%s on %s: %d rows of the table cover it, want 1", pool, day.Format(time.DateOnly), len(rows))
			}
			tt := tests[rows[0]]
			// The first and the last instant of the UTC day.
			for _, now := range []time.Time{day, day.Add(24*time.Hour - time.Nanosecond)} {
				r, err := c.Resolve(ref, now)
				if err != nil {
					t.Fatalf("%s at %v: Resolve() = %v", pool, now, err)
				}
				if r.Image.ID != tt.image || r.Build.Version != tt.build || r.Status != tt.status {
					t.Errorf("%s at %v = %s build %s %s, want %s build %s %s",
						pool, now, r.Image.ID, r.Build.Version, r.Status, tt.image, tt.build, tt.status)
				}
				if got := r.Warnings(); !slices.Equal(got, tt.warnings) {
					t.Errorf("%s at %v: Warnings() = %q, want %q", pool, now, got, tt.warnings)
				}
				gotErr := ""
				if err := r.Decommissioned(pool); err != nil {
					gotErr = err.Error()
				}
				if gotErr != tt.decommError {
					t.Errorf("%s at %v: Decommissioned() = %q, want %q", pool, now, gotErr, tt.decommError)
				}
				if err := r.Brownout(pool); err != nil {
					t.Errorf("%s at %v: Brownout() = %v, want nil (no brownouts)", pool, now, err)
				}
			}
		}
	}

	// windows-2022 itself was not offered before 2023-10-30.
	if _, err := c.Resolve("windows-2022", utc(2023, 10, 29)); !errors.Is(err, ErrNotOffered) {
		t.Errorf("windows-2022 on 2023-10-29: %v, want ErrNotOffered", err)
	}
	if _, err := c.Resolve("windows-2022", utc(2023, 10, 30)); err != nil {
		t.Errorf("windows-2022 on 2023-10-30: %v", err)
	}
}
