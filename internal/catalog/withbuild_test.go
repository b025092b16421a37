package catalog

import (
	"errors"
	"testing"
	"time"
)

func TestWithBuild(t *testing.T) {
	t.Parallel()
	old := loadTimeline(t)
	img, _ := old.Image("ubuntu-18.04")
	oldImg, oldBuilds, oldLen := img, img.Builds, len(img.Builds)
	other, _ := old.Image("ubuntu-20.04")

	released := time.Date(2026, 11, 2, 9, 30, 0, 0, time.FixedZone("UTC+1", 60*60))
	b := &Build{Version: "2026.11.02", Released: released, Artifacts: map[string]string{"docker": "registry.example/ubuntu:18.04-d"}}
	c, err := old.WithBuild("ubuntu-18.04", b)
	if err != nil {
		t.Fatal(err)
	}
	// The caller's build stays the caller's.
	b.Version, b.Artifacts["docker"] = "changed", "changed"

	got, _ := c.Image("ubuntu-18.04")
	if len(got.Builds) != oldLen+1 {
		t.Fatalf("new catalog has %d builds, want %d", len(got.Builds), oldLen+1)
	}
	nb := got.Builds[oldLen]
	if nb.Version != "2026.11.02" || nb.Artifacts["docker"] != "registry.example/ubuntu:18.04-d" || !nb.Released.Equal(released) || nb.Released.Location() != time.UTC {
		t.Errorf("added build = %+v, want a UTC copy of the one passed", nb)
	}
	if lb, _ := got.LatestBuild(released); lb != nb {
		t.Errorf("LatestBuild at its release = %v, want the added build", lb.Version)
	}
	if lb, _ := got.LatestBuild(released.Add(-time.Minute)); lb.Version != "2026.03.02-hotfix" {
		t.Errorf("LatestBuild before its release = %v, want 2026.03.02-hotfix", lb.Version)
	}
	r, err := c.Resolve("ubuntu-default", utc(2026, 5, 1))
	if err != nil || r.Image != got {
		t.Errorf("new catalog's alias resolves to %v, %v; want its own copy of ubuntu-18.04", r, err)
	}
	if o, _ := c.Image("ubuntu-20.04"); o != other {
		t.Error("an untouched image was copied, want it shared")
	}

	// The receiver is untouched.
	if img, _ := old.Image("ubuntu-18.04"); img != oldImg || len(img.Builds) != oldLen || &img.Builds[0] != &oldBuilds[0] {
		t.Errorf("old catalog's ubuntu-18.04 changed: %d builds", len(img.Builds))
	}
	if lb, _ := oldImg.LatestBuild(utc(2030, 1, 1)); lb.Version != "2026.03.02-hotfix" {
		t.Errorf("old catalog's latest build = %s, want 2026.03.02-hotfix", lb.Version)
	}
	if len(old.Images) != len(c.Images) || &old.Images[0] == &c.Images[0] {
		t.Error("new catalog shares the receiver's Images slice")
	}

	// The new catalog's builds do not alias the old one's backing array.
	c2, err := c.WithBuild("ubuntu-18.04", &Build{Version: "2026.12.01", Released: utc(2026, 12, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if img, _ := c.Image("ubuntu-18.04"); len(img.Builds) != oldLen+1 {
		t.Errorf("second WithBuild changed the first result: %d builds", len(img.Builds))
	}
	if img, _ := c2.Image("ubuntu-18.04"); img.Builds[oldLen+1].Artifacts == nil {
		t.Error("build without artifacts got a nil map, want an empty one")
	}
}

func TestWithBuildErrors(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	tests := []struct {
		name  string
		image string
		build *Build
		want  error
		msg   string
	}{
		{"unknown image", "ubuntu-default", &Build{Version: "1", Released: utc(2026, 1, 1)}, ErrUnknownImage,
			`add build: unknown image "ubuntu-default"`},
		{"nil build", "ubuntu-18.04", nil, ErrInvalid,
			`add build to image "ubuntu-18.04": invalid catalog: no build`},
		{"empty version", "ubuntu-18.04", &Build{Released: utc(2026, 1, 1)}, ErrInvalid,
			`add build to image "ubuntu-18.04": invalid catalog: empty version`},
		{"version it has already", "ubuntu-18.04", &Build{Version: "2026.03.02", Released: utc(2026, 11, 1)}, ErrInvalid,
			`add build to image "ubuntu-18.04": invalid catalog: duplicate build version "2026.03.02"`},
		{"zero released", "ubuntu-18.04", &Build{Version: "2026.11.02"}, ErrInvalid,
			`add build to image "ubuntu-18.04": invalid catalog: build "2026.11.02" has no released time`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := c.WithBuild(tt.image, tt.build)
			if got != nil || err == nil || err.Error() != tt.msg || !errors.Is(err, tt.want) {
				t.Errorf("WithBuild() = %v, %v; want nil, %q wrapping %v", got, err, tt.msg, tt.want)
			}
		})
	}
	if img, _ := c.Image("ubuntu-18.04"); len(img.Builds) != 3 {
		t.Errorf("a failed WithBuild changed the receiver: %d builds", len(img.Builds))
	}
}
