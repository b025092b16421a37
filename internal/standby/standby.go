// Package standby reads the operator's standby configuration: how many
// standby workers to keep of which image, and how the count changes over
// the week. The fleet makes and replaces the workers ([fleet.Fleet.Standby]);
// this package only says how many are wanted at an instant.
//
// # File format
//
//	standby:
//	  - image: ubuntu-default        # an image or alias id of the catalog
//	    count: 1                     # the count when no schedule entry matches
//	    schedule:                    # optional; the LAST entry matching now wins
//	      - {cron: "* 8-17 * * 1-5", time_zone: Europe/Berlin, count: 4}
//	      - {cron: "* * 24-26 12 *", time_zone: Europe/Berlin, count: 0}
//
// A cron expression has the five standard fields (minute, hour, day of
// month, month, day of week; ranges, lists, steps and names allowed) and
// matches every minute it describes, in its time zone (an IANA name,
// default UTC): "* 8-17 * * 1-5" is every minute from 08:00 to 17:59 on
// weekdays. A count of 0 is allowed and means none. Unknown keys, a
// missing image, a negative count, a bad expression or an unknown time
// zone are errors that name the entry.
package standby

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	_ "time/tzdata" // time zones on machines without a zoneinfo database

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// Config is a parsed standby file.
type Config struct {
	Entries []Entry
}

// Entry keeps Count standby workers of Image, changed by Schedule.
type Entry struct {
	// Image is a catalog image or alias id; an alias is resolved when the
	// workers are made, so its standby workers follow its target.
	Image string
	Count int
	// Schedule overrides Count while an entry matches; the last matching
	// one wins.
	Schedule []Period
}

// Period is one schedule entry.
type Period struct {
	Cron     string
	TimeZone *time.Location
	Count    int
	schedule cron.Schedule
}

// Want is how many standby workers of Image are wanted at one instant.
type Want struct {
	Image string
	Count int
}

// At returns the count of each entry at t, in file order.
func (c *Config) At(t time.Time) []Want {
	if c == nil {
		return nil
	}
	out := make([]Want, 0, len(c.Entries))
	for _, e := range c.Entries {
		n := e.Count
		for _, p := range e.Schedule {
			if p.matches(t) {
				n = p.Count
			}
		}
		out = append(out, Want{Image: e.Image, Count: n})
	}
	return out
}

// matches reports whether t's minute, in p's time zone, is one p's cron
// expression describes.
func (p *Period) matches(t time.Time) bool {
	minute := t.In(p.TimeZone).Truncate(time.Minute)
	return p.schedule.Next(minute.Add(-time.Second)).Equal(minute)
}

// Load reads and parses the standby file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read standby file: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("standby file %s: %w", path, err)
	}
	return c, nil
}

// file is the YAML shape of a standby file. The type names show in
// yaml's unknown-field errors, so they read as where the field was.
type file struct {
	Standby []entry `yaml:"standby"`
}

// entry is one item of the standby list (keys image, count, schedule).
type entry struct {
	Image    string   `yaml:"image"`
	Count    int      `yaml:"count"`
	Schedule []period `yaml:"schedule"`
}

// period is one schedule item (keys cron, time_zone, count).
type period struct {
	Cron     string `yaml:"cron"`
	TimeZone string `yaml:"time_zone"`
	Count    *int   `yaml:"count"`
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Parse parses a standby file's content; see the package doc.
func Parse(data []byte) (*Config, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parse (a standby file is a mapping with the key standby: a list of {image, count, schedule}): %w", err)
	}
	c := &Config{}
	for i, fe := range f.Standby {
		at := fmt.Sprintf("standby[%d]", i)
		if fe.Image == "" {
			return nil, fmt.Errorf("%s: image is missing", at)
		}
		if fe.Count < 0 {
			return nil, fmt.Errorf("%s: count %d is negative", at, fe.Count)
		}
		e := Entry{Image: fe.Image, Count: fe.Count}
		for j, fp := range fe.Schedule {
			at := fmt.Sprintf("%s.schedule[%d]", at, j)
			if fp.Count == nil {
				return nil, fmt.Errorf("%s: count is missing (0 is allowed)", at)
			}
			if *fp.Count < 0 {
				return nil, fmt.Errorf("%s: count %d is negative", at, *fp.Count)
			}
			sched, err := cronParser.Parse(fp.Cron)
			if err != nil {
				return nil, fmt.Errorf("%s: cron %q: %w", at, fp.Cron, err)
			}
			loc := time.UTC
			if fp.TimeZone != "" {
				if loc, err = time.LoadLocation(fp.TimeZone); err != nil {
					return nil, fmt.Errorf("%s: time zone %q: %w", at, fp.TimeZone, err)
				}
			}
			e.Schedule = append(e.Schedule, Period{Cron: fp.Cron, TimeZone: loc, Count: *fp.Count, schedule: sched})
		}
		c.Entries = append(c.Entries, e)
	}
	return c, nil
}
