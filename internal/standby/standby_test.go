package standby

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

const weekdays = `
standby:
  - image: ubuntu-default
    count: 1
    schedule:
      - {cron: "* 8-17 * * 1-5", time_zone: Europe/Berlin, count: 4}
      - {cron: "* * 24-26 12 *", time_zone: Europe/Berlin, count: 0}
  - image: windows-2022
    count: 0
`

func TestAtFollowsTheScheduleInItsTimeZone(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(weekdays))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	tests := []struct {
		name string
		at   time.Time
		want int
	}{
		// Berlin is UTC+1 in winter: 07:30 UTC is 08:30 there.
		{"weekday morning in Berlin", time.Date(2026, 11, 30, 7, 30, 0, 0, time.UTC), 4},
		{"before eight in Berlin", time.Date(2026, 11, 30, 6, 59, 59, 0, time.UTC), 1},
		{"last minute of the period", time.Date(2026, 11, 30, 16, 59, 0, 0, time.UTC), 4},
		{"period over", time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC), 1},
		{"saturday", time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), 1},
		{"christmas on a thursday: the last match wins, zero", time.Date(2026, 12, 24, 10, 0, 0, 0, time.UTC), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.At(tt.at)
			want := []Want{{Image: "ubuntu-default", Count: tt.want}, {Image: "windows-2022", Count: 0}}
			if !slices.Equal(got, want) {
				t.Errorf("At(%s) = %+v, want %+v", tt.at, got, want)
			}
		})
	}
}

func TestNilConfigWantsNothing(t *testing.T) {
	t.Parallel()
	var c *Config
	if got := c.At(time.Now()); got != nil {
		t.Errorf("nil config At = %v, want nil", got)
	}
	empty, err := Parse(nil)
	if err != nil || len(empty.At(time.Now())) != 0 {
		t.Errorf("empty file = %+v, %v; want no entries", empty, err)
	}
}

func TestParseErrorsNameTheEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "standby:\n  - {image: x, count: 1, size: 2}\n", "field size not found"},
		{"no image", "standby:\n  - {count: 1}\n", "standby[0]: image is missing"},
		{"negative count", "standby:\n  - {image: x, count: -1}\n", "standby[0]: count -1 is negative"},
		{"period without count", "standby:\n  - {image: x, schedule: [{cron: '* * * * *'}]}\n", "standby[0].schedule[0]: count is missing (0 is allowed)"},
		{"negative period count", "standby:\n  - {image: x, schedule: [{cron: '* * * * *', count: -2}]}\n", "standby[0].schedule[0]: count -2 is negative"},
		{"bad cron", "standby:\n  - {image: x, schedule: [{cron: '* 25 * * *', count: 1}]}\n", `standby[0].schedule[0]: cron "* 25 * * *"`},
		{"six fields", "standby:\n  - {image: x, schedule: [{cron: '0 * * * * *', count: 1}]}\n", "expected exactly 5 fields"},
		{"bad time zone", "standby:\n  - {image: x, schedule: [{cron: '* * * * *', time_zone: Mars/Olympus, count: 1}]}\n", `time zone "Mars/Olympus"`},
		{"not yaml", "standby: [", "parse (a standby file is a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/standby.yaml"
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "read standby file") {
		t.Errorf("Load of a missing file = %v, want a read error", err)
	}
	if err := os.WriteFile(path, []byte("standby:\n  - {count: 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), "standby file "+path+": standby[0]: image is missing") {
		t.Errorf("Load of a bad file = %v, want the path and the entry", err)
	}
	if err := os.WriteFile(path, []byte(weekdays), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(path); err != nil || len(c.Entries) != 2 {
		t.Errorf("Load = %+v, %v; want 2 entries", c, err)
	}
}
