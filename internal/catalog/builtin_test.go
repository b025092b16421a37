package catalog

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
)

func TestBuiltinImages(t *testing.T) {
	t.Parallel()
	c := Builtin()
	now := utc(2026, 11, 29)
	tests := []struct {
		id, name, os, status string
		dockerRef            string
		process              bool
	}{
		{"windows-2019", "Windows Server Core 2019", OSWindows, api.ImageStatusActive, "dynpool/worker-windows:ltsc2019", false},
		{"ubuntu-18.04", "Ubuntu Server 18.04", OSLinux, api.ImageStatusActive, "dynpool/worker-ubuntu:18.04", true},
		{"ubuntu-22.04", "Ubuntu Server 22.04", OSLinux, api.ImageStatusPreview, "dynpool/worker-ubuntu:22.04", true},
	}
	if len(c.Images) != len(tests) {
		t.Errorf("builtin has %d images, want %d", len(c.Images), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			img, ok := c.Image(tt.id)
			if !ok {
				t.Fatalf("builtin has no image %s", tt.id)
			}
			if img.Name != tt.name || img.OS != tt.os || img.Status(now) != tt.status {
				t.Errorf("%s = %q %s %s, want %q %s %s", tt.id, img.Name, img.OS, img.Status(now), tt.name, tt.os, tt.status)
			}
			// The server runs on the real clock: a built-in image must stay
			// usable, so it has no retirement dates.
			if !img.DeprecationDate.IsZero() || !img.EndOfLifeDate.IsZero() || !img.Offered(now) {
				t.Errorf("%s has retirement dates or is not offered", tt.id)
			}
			b, ok := img.LatestBuild(now)
			if !ok {
				t.Fatalf("%s has no build released by %v", tt.id, now)
			}
			if b.Artifacts["docker"] != tt.dockerRef {
				t.Errorf("%s docker artifact = %q, want %q", tt.id, b.Artifacts["docker"], tt.dockerRef)
			}
			if _, ok := b.Artifacts["process"]; ok != tt.process {
				t.Errorf("%s has a process artifact = %v, want %v", tt.id, ok, tt.process)
			}
		})
	}
}

func TestBuiltinAliases(t *testing.T) {
	t.Parallel()
	c := Builtin()
	tests := []struct{ alias, name, image string }{
		{"windows-default", "Windows (default)", "windows-2019"},
		// ubuntu-22.04 is in preview, so the default stays on 18.04.
		{"ubuntu-default", "Ubuntu (default)", "ubuntu-18.04"},
	}
	for _, tt := range tests {
		r, err := c.Resolve(tt.alias, time.Now())
		if err != nil {
			t.Fatalf("Resolve(%s) on the real clock: %v", tt.alias, err)
		}
		if r.Alias.Name != tt.name || r.Image.ID != tt.image || len(r.Warnings()) != 0 {
			t.Errorf("%s = %q -> %s (warnings %v), want %q -> %s, no warnings", tt.alias, r.Alias.Name, r.Image.ID, r.Warnings(), tt.name, tt.image)
		}
	}
}

func TestBuiltinTools(t *testing.T) {
	t.Parallel()
	c := Builtin()
	tests := []struct {
		image, tool, version, path string
	}{
		{"windows-2019", "kubectl", "1.16.10", ""},
		{"windows-2019", "kubectl", "1.11.1", `c:\tools\kubectl\{{version}}\kubectl.exe`},
		{"windows-2019", "kubectl", "1.22.6", `c:\tools\kubectl\{{version}}\kubectl.exe`},
		{"windows-2019", ".NET Framework", "4.8", ""},
		{"windows-2019", "Service Fabric", "6.1.480.9494", ""},
		{"windows-2019", "Service Fabric SDK", "3.0.480", ""},
		{"windows-2019", "Docker", "19.03.5", ""},
		{"windows-2019", "Helm", "2.9.1", ""},
		{"windows-2019", "Pip", "20.1.1", ""},
		{"windows-2019", "Python", "3.7.4", ""},
		{"windows-2019", "AWS IAM Authenticator", "0.5.1", ""},
		{"windows-2019", "Chocolatey", "latest", ""},
		{"windows-2019", "GCloud CLI", "339.0.0", ""},
		{"ubuntu-18.04", ".NET Core", "3.1", ""},
		{"ubuntu-18.04", "GCloud CLI", "339.0.0", ""},
		{"ubuntu-18.04", "Python", "3", ""},
		{"ubuntu-22.04", "GCloud CLI", "367.0.0", ""},
		{"ubuntu-22.04", "Docker", "latest", ""},
	}
	for _, tt := range tests {
		img, _ := c.Image(tt.image)
		found := slices.ContainsFunc(img.Tools, func(tool Tool) bool {
			return tool.Name == tt.tool && tool.Path == tt.path && slices.Contains(tool.Versions, tt.version)
		})
		if !found {
			t.Errorf("%s has no %s %s at path %q", tt.image, tt.tool, tt.version, tt.path)
		}
	}
	win, _ := c.Image("windows-2019")
	if got := len(win.Tools); got != 16 {
		t.Errorf("windows-2019 has %d tool entries, want 16", got)
	}
}

func TestBuiltinWorkerTools(t *testing.T) {
	t.Parallel()
	wt := Builtin().WorkerTools
	if got := wt[OSLinux]; got.Image != "worker-tools" || got.Cache != DefaultLinuxToolsCache || len(got.Tags) == 0 {
		t.Errorf("linux worker tools = %+v, want worker-tools with tags, cache %d", got, DefaultLinuxToolsCache)
	}
	if got := wt[OSWindows]; got.Image != "worker-tools" || got.Cache != DefaultWindowsToolsCache || len(got.Tags) == 0 {
		t.Errorf("windows worker tools = %+v, want worker-tools with tags, cache %d", got, DefaultWindowsToolsCache)
	}
}

func TestBuiltinIsFresh(t *testing.T) {
	t.Parallel()
	a, b := Builtin(), Builtin()
	a.Images[0].Name = "changed"
	if b.Images[0].Name == "changed" {
		t.Error("Builtin() returned a shared catalog; a caller's change leaked into another")
	}
}

func TestMustParsePanicsOnInvalid(t *testing.T) {
	t.Parallel()
	defer func() {
		got, _ := recover().(string)
		if !strings.HasPrefix(got, "parse builtin catalog: catalog: line 1:") {
			t.Errorf("recover() = %q, want a panic naming the line", got)
		}
	}()
	mustParse([]byte("images: []\n"))
}
