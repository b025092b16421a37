package catalog

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
)

// utc returns 00:00 UTC of a day.
func utc(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func TestStatus(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	plus2 := time.FixedZone("UTC+2", 2*60*60)
	tests := []struct {
		image string
		now   time.Time
		want  string
	}{
		{"ubuntu-18.04", utc(2026, 9, 7), api.ImageStatusActive},
		{"ubuntu-18.04", utc(2026, 9, 8).Add(-time.Nanosecond), api.ImageStatusActive},
		// 01:00 at UTC+2 on the 8th is still the 7th in UTC.
		{"ubuntu-18.04", time.Date(2026, 9, 8, 1, 0, 0, 0, plus2), api.ImageStatusActive},
		{"ubuntu-18.04", utc(2026, 9, 8), api.ImageStatusDeprecated},
		{"ubuntu-18.04", utc(2026, 10, 12).Add(23 * time.Hour), api.ImageStatusDeprecated},
		{"ubuntu-18.04", utc(2026, 10, 13), api.ImageStatusDecommissioned},
		{"ubuntu-18.04", utc(2030, 1, 1), api.ImageStatusDecommissioned},
		{"ubuntu-20.04", utc(2030, 1, 1), api.ImageStatusActive},
		{"ubuntu-22.04", utc(2026, 11, 29), api.ImageStatusPreview},
		{"windows-2019", utc(2026, 11, 30), api.ImageStatusActive},
		{"windows-2019", utc(2026, 12, 1), api.ImageStatusDeprecated},
	}
	for _, tt := range tests {
		t.Run(tt.image+"@"+tt.now.Format(time.RFC3339), func(t *testing.T) {
			t.Parallel()
			img, _ := c.Image(tt.image)
			if got := img.Status(tt.now); got != tt.want {
				t.Errorf("Status(%v) = %q, want %q", tt.now, got, tt.want)
			}
		})
	}
}

func TestOffered(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	tests := []struct {
		image string
		now   time.Time
		want  bool
	}{
		{"ubuntu-24.04", utc(2026, 12, 31), false},
		{"ubuntu-24.04", utc(2027, 1, 1), true},
		{"windows-2019", utc(1999, 1, 1), true}, // no start date
		{"ubuntu-18.04", utc(2030, 1, 1), true}, // decommissioned, still known
	}
	for _, tt := range tests {
		t.Run(tt.image+"@"+tt.now.Format(time.DateOnly), func(t *testing.T) {
			t.Parallel()
			img, _ := c.Image(tt.image)
			if got := img.Offered(tt.now); got != tt.want {
				t.Errorf("Offered(%v) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestLatestBuild(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	img, _ := c.Image("ubuntu-18.04")
	tests := []struct {
		now  time.Time
		want string // "" for none
	}{
		{utc(2026, 1, 4), ""},
		{utc(2026, 1, 5), "2026.01.05"},
		{utc(2026, 3, 1), "2026.01.05"},
		// Two builds released the same day: the later in the file wins.
		{utc(2026, 3, 2), "2026.03.02-hotfix"},
		{utc(2030, 1, 1), "2026.03.02-hotfix"},
	}
	for _, tt := range tests {
		t.Run(tt.now.Format(time.DateOnly), func(t *testing.T) {
			t.Parallel()
			b, ok := img.LatestBuild(tt.now)
			got := ""
			if ok {
				got = b.Version
			}
			if got != tt.want {
				t.Errorf("LatestBuild(%v) = %q, want %q", tt.now, got, tt.want)
			}
		})
	}
}

func TestAliasTarget(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	tests := []struct {
		alias string
		now   time.Time
		want  string // "" for none
	}{
		{"ubuntu-default", utc(2026, 5, 31), "ubuntu-18.04"},
		{"ubuntu-default", utc(2026, 6, 1), "ubuntu-20.04"},
		{"ubuntu-default", utc(2027, 2, 28), "ubuntu-20.04"},
		{"ubuntu-default", utc(2027, 3, 1), "ubuntu-24.04"},
		{"future-default", utc(2027, 5, 31), ""},
		{"future-default", utc(2027, 6, 1), "ubuntu-24.04"},
	}
	for _, tt := range tests {
		t.Run(tt.alias+"@"+tt.now.Format(time.DateOnly), func(t *testing.T) {
			t.Parallel()
			a, _ := c.Alias(tt.alias)
			got, ok := a.Target(tt.now)
			if ok != (tt.want != "") || got.Image != tt.want {
				t.Errorf("Target(%v) = %q, %v; want %q", tt.now, got.Image, ok, tt.want)
			}
		})
	}
}
