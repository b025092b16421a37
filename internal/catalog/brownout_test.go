package catalog

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// at returns hh:mm UTC of a day.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

func loadBrownouts(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(filepath.Join("testdata", "brownouts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseBrownouts(t *testing.T) {
	t.Parallel()
	c := loadBrownouts(t)
	img, _ := c.Image("ubuntu-18.04")
	want := []Brownout{
		{at(2026, 9, 22, 14, 0), at(2026, 9, 22, 18, 0)},
		{at(2026, 9, 1, 14, 0), at(2026, 9, 1, 18, 0)},
		// Written as 20:00+02:00: kept in UTC.
		{at(2026, 9, 22, 18, 0), at(2026, 9, 22, 20, 0)},
	}
	if !slices.Equal(img.Brownouts, want) {
		t.Errorf("brownouts = %v, want %v", img.Brownouts, want)
	}
	for _, w := range img.Brownouts {
		if w.From.Location() != time.UTC || w.To.Location() != time.UTC {
			t.Errorf("brownout %v is not in UTC", w)
		}
	}
	if img, _ := c.Image("ubuntu-22.04"); img.Brownouts != nil {
		t.Errorf("ubuntu-22.04 brownouts = %v, want none", img.Brownouts)
	}
}

func TestBrownout(t *testing.T) {
	t.Parallel()
	c := loadBrownouts(t)
	const first = `pool "Deploy" uses image Ubuntu Server 18.04, which is in a scheduled brownout until 2026-09-01 18:00 UTC ahead of its decommissioning on 2026-10-13: edit the pool to use Ubuntu (default) or Ubuntu Server 22.04`
	tests := []struct {
		name string
		ref  string
		now  time.Time
		want string // "" for no error
	}{
		{"before the first window", "ubuntu-18.04", at(2026, 9, 1, 13, 59), ""},
		{"at its start", "ubuntu-18.04", at(2026, 9, 1, 14, 0), first},
		{"inside", "ubuntu-18.04", at(2026, 9, 1, 17, 59), first},
		{"at its end", "ubuntu-18.04", at(2026, 9, 1, 18, 0), ""},
		{"between windows", "ubuntu-18.04", at(2026, 9, 10, 15, 0), ""},
		{"window listed first, after deprecation", "ubuntu-18.04", at(2026, 9, 22, 15, 0),
			`pool "Deploy" uses image Ubuntu Server 18.04, which is in a scheduled brownout until 2026-09-22 18:00 UTC ahead of its decommissioning on 2026-10-13: edit the pool to use Ubuntu (default) or Ubuntu Server 22.04`},
		{"adjacent window", "ubuntu-18.04", at(2026, 9, 22, 18, 0),
			`pool "Deploy" uses image Ubuntu Server 18.04, which is in a scheduled brownout until 2026-09-22 20:00 UTC ahead of its decommissioning on 2026-10-13: edit the pool to use Ubuntu (default) or Ubuntu Server 22.04`},
		{"through an alias still on the image", "ubuntu-old", at(2026, 9, 1, 15, 0),
			`pool "Deploy" uses image Ubuntu Server 18.04, which is in a scheduled brownout until 2026-09-01 18:00 UTC ahead of its decommissioning on 2026-10-13: edit the pool to use Ubuntu (default) or Ubuntu Server 22.04`},
		{"through an alias that has moved on", "ubuntu-old", at(2026, 9, 22, 15, 0), ""},
		{"no end of life", "ubuntu-20.04", at(2026, 9, 1, 15, 0),
			`pool "Deploy" uses image Ubuntu Server 20.04, which is in a scheduled brownout until 2026-09-01 18:00 UTC ahead of its decommissioning: edit the pool to use Ubuntu (default) or Ubuntu Server 22.04`},
		{"image without brownouts", "ubuntu-22.04", at(2026, 9, 1, 15, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := c.Resolve(tt.ref, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Brownout("Deploy")
			if tt.want == "" {
				if err != nil {
					t.Errorf("Brownout() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrBrownout) {
				t.Errorf("Brownout() = %v, want %q wrapping ErrBrownout", err, tt.want)
			}
		})
	}
}

func TestBrownoutWarnings(t *testing.T) {
	t.Parallel()
	c := loadBrownouts(t)
	const fix = ": edit the pool to use Ubuntu (default) or Ubuntu Server 22.04"
	tests := []struct {
		name string
		ref  string
		now  time.Time
		want []string
	}{
		{"active, first window ahead", "ubuntu-18.04", utc(2026, 8, 1), []string{
			"Ubuntu Server 18.04 has a scheduled brownout from 2026-09-01 14:00 UTC to 2026-09-01 18:00 UTC, when steps on it fail" + fix,
		}},
		{"inside the first window", "ubuntu-18.04", at(2026, 9, 1, 15, 0), []string{
			"Ubuntu Server 18.04 has a scheduled brownout from 2026-09-01 14:00 UTC to 2026-09-01 18:00 UTC, when steps on it fail" + fix,
		}},
		{"deprecated, second window ahead", "ubuntu-18.04", utc(2026, 9, 8), []string{
			"Ubuntu Server 18.04 is deprecated and will be decommissioned on 2026-10-13" + fix,
			"Ubuntu Server 18.04 has a scheduled brownout from 2026-09-22 14:00 UTC to 2026-09-22 18:00 UTC, when steps on it fail" + fix,
		}},
		{"all windows over", "ubuntu-18.04", utc(2026, 9, 23), []string{
			"Ubuntu Server 18.04 is deprecated and will be decommissioned on 2026-10-13" + fix,
		}},
		{"decommissioned", "ubuntu-18.04", utc(2026, 10, 13), []string{}},
		// The alias reaches ubuntu-22.04 before the 2026-09-22 window,
		// so only the 2026-09-01 one concerns its pools.
		{"alias still on the image at the window", "ubuntu-old", utc(2026, 8, 1), []string{
			"Ubuntu Server 18.04 has a scheduled brownout from 2026-09-01 14:00 UTC to 2026-09-01 18:00 UTC, when steps on it fail: edit the pool to use Ubuntu (default) or Ubuntu Server 22.04",
		}},
		{"alias gone from the image by the window", "ubuntu-old", utc(2026, 9, 8), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := c.Resolve(tt.ref, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Warnings(); !slices.Equal(got, tt.want) {
				t.Errorf("Warnings() = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestAPIShowsBrownoutsNotOverYet(t *testing.T) {
	t.Parallel()
	c := loadBrownouts(t)
	// On 2026-09-22 at 16:00 the first window is over, the second running.
	list := c.API(at(2026, 9, 22, 16, 0))
	for _, img := range list.Images {
		if img.ID != "ubuntu-18.04" {
			continue
		}
		if len(img.Brownouts) != 2 || !img.Brownouts[0].From.Equal(at(2026, 9, 22, 14, 0)) || !img.Brownouts[1].To.Equal(at(2026, 9, 22, 20, 0)) {
			t.Fatalf("brownouts in the API = %+v, want the running window and the next one", img.Brownouts)
		}
		return
	}
	t.Fatal("ubuntu-18.04 is not in the API's image list")
}
