package catalog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		line int // 0: the error names no line
		want string
	}{
		{"unknown_key.yaml", 7, `unknown key "tols" in image "ubuntu-22.04"`},
		{"bad_date.yaml", 11, `images[1].end_of_life_date: "2026-13-01" is not a date (want YYYY-MM-DD)`},
		{"unknown_alias_target.yaml", 13, `aliases[0].targets[1].image: unknown image "ubuntu-24.04"`},
		{"duplicate_id.yaml", 7, `images[1].id: duplicate image id "ubuntu-22.04" (first on line 2)`},
		{"duplicate_alias_id.yaml", 8, `aliases[0].id: duplicate id "ubuntu-22.04" (first on line 2)`},
		{"overlapping_targets.yaml", 19, `aliases[0].targets[2].from: 2023-01-01 is not after the previous target's from 2023-03-15 (targets overlap)`},
		{"target_without_from.yaml", 13, `aliases[0].targets[1]: missing required key "from"`},
		{"deprecation_after_eol.yaml", 5, `images[0].deprecation_date: 2026-11-01 is after end_of_life_date 2026-10-13`},
		{"missing_build.yaml", 2, `images[0]: missing required key "builds"`},
		{"build_missing_released.yaml", 6, `images[0].builds[0]: missing required key "released"`},
		{"build_missing_version.yaml", 6, `images[0].builds[0]: missing required key "version"`},
		{"duplicate_build.yaml", 7, `images[0].builds[1].version: duplicate build version "2026.11.02" (first on line 6)`},
		{"bad_os.yaml", 4, `images[0].os: "macos" is not linux or windows`},
		{"missing_name.yaml", 2, `images[0]: missing required key "name"`},
		{"missing_id.yaml", 2, `images[0]: missing required key "id"`},
		{"alias_os_mismatch.yaml", 12, `aliases[0].targets[0].image: image "windows-2019" is windows but alias "ubuntu-default" is linux`},
		{"bad_artifact.yaml", 9, `images[0].builds[0].artifacts.process: want a string (docker: "ref") or {} (process: {})`},
		{"artifacts_not_mapping.yaml", 8, `images[0].builds[0].artifacts: want a mapping of provider to artifact`},
		{"duplicate_artifact.yaml", 10, `duplicate key "docker" in images[0].builds[0].artifacts`},
		{"duplicate_key.yaml", 5, `duplicate key "name" in image "ubuntu-22.04"`},
		{"bad_preview.yaml", 5, `images[0].preview: "maybe" is not true or false`},
		{"bad_cache.yaml", 11, `worker_tools.linux.cache: "-1" is not a whole number >= 0`},
		{"worker_tools_unknown_os.yaml", 8, `unknown key "macos" in worker_tools (known: linux, windows)`},
		{"no_images.yaml", 1, `images: at least one image is required`},
		{"tool_missing_versions.yaml", 6, `images[0].tools[0]: missing required key "versions"`},
		{"tool_empty_version.yaml", 6, `images[0].tools[0].versions[0]: empty string`},
		{"images_not_list.yaml", 1, `images: want a list`},
		{"image_not_mapping.yaml", 2, `images[0]: want a mapping`},
		{"id_not_string.yaml", 2, `images[0].id: want a string`},
		{"alias_no_targets.yaml", 8, `aliases[0]: missing required key "targets"`},
		{"top_level_unknown_key.yaml", 7, `unknown key "imagse" in catalog (known: images, aliases, worker_tools)`},
		{"syntax.yaml", 0, `yaml: line 3: found unexpected end of stream`},
		{"empty.yaml", 0, `empty file: at least one image is required`},
		{"brownout_no_deprecation.yaml", 7, `images[0].brownouts: image has no deprecation_date (brownouts warn of a coming removal)`},
		{"brownout_bad_time.yaml", 8, `images[0].brownouts[0].from: "2026-09-01" is not a time (want RFC 3339, e.g. 2026-09-01T14:00:00Z)`},
		{"brownout_to_before_from.yaml", 8, `images[0].brownouts[0].to: 2026-09-01T14:00:00Z is not after from 2026-09-01T18:00:00Z`},
		{"brownout_overlap.yaml", 10, `images[0].brownouts[2]: 2026-09-01T17:00:00Z to 2026-09-01T19:00:00Z overlaps brownouts[0] (line 8)`},
		{"brownout_after_eol.yaml", 8, `images[0].brownouts[0].from: 2026-10-13T00:00:00Z is not before end_of_life_date 2026-10-13 (the image is decommissioned then)`},
		{"brownout_missing_to.yaml", 8, `images[0].brownouts[0]: missing required key "to"`},
		{"brownout_unknown_key.yaml", 8, `unknown key "until" in images[0].brownouts[0] (known: from, to)`},
		{"brownouts_not_list.yaml", 7, `images[0].brownouts: want a list`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "invalid", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			c, err := Parse(data)
			if err == nil {
				t.Fatalf("Parse() = %d images, want an error", len(c.Images))
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse() error %q does not wrap ErrInvalid", err)
			}
			prefix := "catalog: "
			if tt.line > 0 {
				prefix = fmt.Sprintf("catalog: line %d: ", tt.line)
			}
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error = %q, want %q ... %q", err, prefix, tt.want)
			}
		})
	}
}

func TestParseTimeline(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	if got := len(c.Images); got != 6 {
		t.Fatalf("images = %d, want 6", got)
	}
	img, ok := c.Image("ubuntu-18.04")
	if !ok {
		t.Fatal(`Image("ubuntu-18.04") not found`)
	}
	if want := time.Date(2026, 10, 13, 0, 0, 0, 0, time.UTC); !img.EndOfLifeDate.Equal(want) || img.EndOfLifeDate.Location() != time.UTC {
		t.Errorf("end of life = %v, want %v", img.EndOfLifeDate, want)
	}
	kubectl := img.Tools[1]
	if kubectl.Name != "kubectl" || strings.Join(kubectl.Versions, ",") != "1.21.9,1.22.6" || kubectl.Path != "/opt/kubectl/{{version}}/kubectl" {
		t.Errorf("tools[1] = %+v, want kubectl 1.21.9,1.22.6 under /opt/kubectl/{{version}}/kubectl", kubectl)
	}
	art := img.Builds[0].Artifacts
	if p, ok := art["process"]; !ok || p != "" {
		t.Errorf(`artifacts["process"] = %q, %v; want "", true`, p, ok)
	}
	if d := art["docker"]; d != "registry.example/ubuntu:18.04-a" {
		t.Errorf(`artifacts["docker"] = %q, want "registry.example/ubuntu:18.04-a"`, d)
	}
	if _, ok := img.Builds[1].Artifacts["process"]; ok {
		t.Error(`builds[1] has a process artifact, want none`)
	}
	a, ok := c.Alias("ubuntu-default")
	if !ok || len(a.Targets) != 3 || a.Targets[1].Image != "ubuntu-20.04" {
		t.Fatalf(`Alias("ubuntu-default") = %+v, %v; want 3 targets, the second ubuntu-20.04`, a, ok)
	}
	if _, ok := c.Alias("ubuntu-18.04"); ok {
		t.Error(`Alias("ubuntu-18.04") found an alias, want none`)
	}
	if _, ok := c.Image("ubuntu-default"); ok {
		t.Error(`Image("ubuntu-default") found an image, want none`)
	}
	if got := c.WorkerTools["linux"]; got.Image != "worker-tools" || got.Cache != 1 || len(got.Tags) != 2 {
		t.Errorf("worker_tools linux = %+v, want worker-tools, 2 tags, cache 1", got)
	}
	if got := c.WorkerTools["windows"].Cache; got != DefaultWindowsToolsCache {
		t.Errorf("worker_tools windows cache = %d, want the default %d", got, DefaultWindowsToolsCache)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	if _, err := Load(filepath.Join("testdata", "timeline.yaml")); err != nil {
		t.Fatalf("Load(timeline.yaml) = %v", err)
	}
	missing := filepath.Join("testdata", "missing.yaml")
	if _, err := Load(missing); err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want one naming %s and wrapping os.ErrNotExist", err, missing)
	}
	bad := filepath.Join("testdata", "invalid", "bad_date.yaml")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad+": catalog: line 11:") || !errors.Is(err, ErrInvalid) {
		t.Errorf("Load(bad) error = %v, want one naming %s and line 11, wrapping ErrInvalid", err, bad)
	}
}

// loadTimeline parses testdata/timeline.yaml.
func loadTimeline(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(filepath.Join("testdata", "timeline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}
