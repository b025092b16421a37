package catalog

import (
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func loadTools(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(filepath.Join("testdata", "tools.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// requirements parses each entry or fails the test.
func requirements(t *testing.T, entries ...string) []Requirement {
	t.Helper()
	out := make([]Requirement, 0, len(entries))
	for _, e := range entries {
		q, err := ParseRequirement(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, q)
	}
	return out
}

// strs returns the canonical forms of reqs.
func strs(reqs []Requirement) []string {
	out := []string{}
	for _, q := range reqs {
		out = append(out, q.String())
	}
	return out
}

func TestMissing(t *testing.T) {
	t.Parallel()
	c := loadTools(t)
	tests := []struct {
		image string
		reqs  []string
		want  []string
	}{
		{"windows-2019", nil, []string{}},
		{"windows-2019", []string{"kubectl=1.22.6", "helm>=3", "chocolatey", "gcloud-cli>=300", "dotnet core", "netcore=3.1"}, []string{"dotnet core"}},
		// kubectl is listed twice: any version of either entry counts.
		{"windows-2019", []string{"kubectl=1.16", "kubectl<1.10", "kubectl>1.22.6"}, []string{"kubectl>1.22.6"}},
		{"windows-2019", []string{"CHOCOLATEY>=99", "chocolatey=1"}, []string{"chocolatey=1"}},
		{"ubuntu-18.04", []string{"kubectl=1.22.6", "helm>=3", "docker", "python", "python>=3"}, []string{"kubectl=1.22.6", "helm>=3", "python>=3"}},
		{"ubuntu-22.04", []string{"GCloud CLI", "helm=3.0", "terraform"}, []string{"terraform"}},
	}
	for _, tt := range tests {
		t.Run(tt.image+":"+strings.Join(tt.reqs, ","), func(t *testing.T) {
			t.Parallel()
			img, _ := c.Image(tt.image)
			got := img.Missing(requirements(t, tt.reqs...))
			if !slices.Equal(strs(got), tt.want) {
				t.Errorf("Missing() = %q, want %q", strs(got), tt.want)
			}
			if len(tt.want) == 0 && got != nil {
				t.Errorf("Missing() = %#v, want nil", got)
			}
		})
	}
}

func TestSatisfying(t *testing.T) {
	t.Parallel()
	c := loadTools(t)
	tests := []struct {
		name string
		reqs []string
		now  time.Time
		want []string // image ids
	}{
		{"everything offered, in catalog order", []string{"kubectl", "helm"}, utc(2026, 6, 1), []string{"windows-2019", "ubuntu-18.04", "ubuntu-22.04"}},
		{"not before its start date", []string{"kubectl", "helm"}, utc(2026, 5, 31), []string{"windows-2019", "ubuntu-18.04"}},
		{"deprecated still counts", []string{"helm<3"}, utc(2026, 9, 8), []string{"ubuntu-18.04"}},
		{"decommissioned does not", []string{"helm<3"}, utc(2026, 10, 13), nil},
		{"all must be met", []string{"kubectl=1.22.6", "helm>=3", "chocolatey"}, utc(2026, 6, 1), []string{"windows-2019"}},
		{"none", []string{"terraform"}, utc(2026, 6, 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, img := range c.Satisfying(requirements(t, tt.reqs...), tt.now) {
				got = append(got, img.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Satisfying() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestToolPathEnv(t *testing.T) {
	t.Parallel()
	c := loadTools(t)
	tests := []struct {
		image string
		want  map[string]string
	}{
		{"windows-2019", map[string]string{
			"DYNPOOL_TOOL_KUBECTL_1_9_0_PATH":              `c:\tools\kubectl\1.9.0\kubectl.exe`,
			"DYNPOOL_TOOL_KUBECTL_1_22_6_PATH":             `c:\tools\kubectl\1.22.6\kubectl.exe`,
			"DYNPOOL_TOOL_SERVICE_FABRIC_SDK_3_0_480_PATH": `c:\sf\3.0.480`,
		}},
		{"ubuntu-18.04", map[string]string{}},
		{"ubuntu-22.04", map[string]string{"DYNPOOL_TOOL_KUBECTL_1_22_6_PATH": "/opt/kubectl/1.22.6/kubectl"}},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			t.Parallel()
			img, _ := c.Image(tt.image)
			got := img.ToolPathEnv()
			if got == nil || !maps.Equal(got, tt.want) {
				t.Errorf("ToolPathEnv() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestToolPathEnvEdges(t *testing.T) {
	t.Parallel()
	img := &Image{Tools: []Tool{
		{Name: "  --Foo  Bar++ ", Versions: []string{"v1.2-rc.1", "latest", "..."}, Path: "/foo/{{version}}/{{version}}"},
		// Same variable as the first entry's latest: the first wins.
		{Name: "foo-bar", Versions: []string{"latest"}, Path: "/other"},
		{Name: "++", Versions: []string{"1"}, Path: "/nameless"},
	}}
	want := map[string]string{
		"DYNPOOL_TOOL_FOO_BAR_V1_2_RC_1_PATH": "/foo/v1.2-rc.1/v1.2-rc.1",
		"DYNPOOL_TOOL_FOO_BAR_LATEST_PATH":    "/foo/latest/latest",
	}
	if got := img.ToolPathEnv(); !maps.Equal(got, want) {
		t.Errorf("ToolPathEnv() = %q, want %q", got, want)
	}
}

func TestToolPathEnvBuiltin(t *testing.T) {
	t.Parallel()
	img, _ := Builtin().Image("windows-2019")
	env := img.ToolPathEnv()
	if got, want := env["DYNPOOL_TOOL_KUBECTL_1_22_6_PATH"], `c:\tools\kubectl\1.22.6\kubectl.exe`; got != want {
		t.Errorf("DYNPOOL_TOOL_KUBECTL_1_22_6_PATH = %q, want %q", got, want)
	}
	if len(env) != 12 {
		t.Errorf("ToolPathEnv() has %d variables, want 12 (one per kubectl version with a path)", len(env))
	}
}

func TestRequirementsError(t *testing.T) {
	t.Parallel()
	c := loadTools(t)
	old, _ := c.Image("ubuntu-18.04")
	win, _ := c.Image("windows-2019")
	u22, _ := c.Image("ubuntu-22.04")
	tests := []struct {
		name       string
		missing    []string
		satisfying []*Image
		want       string // "" for nil
	}{
		{"nothing missing", nil, []*Image{win}, ""},
		{"one image has them", []string{"kubectl=1.22.6", "helm>=3"}, []*Image{win},
			`pool "Deploy" (Ubuntu Server 18.04) lacks kubectl=1.22.6, helm>=3; images that have them: Windows Server Core 2019`},
		{"two images have them", []string{"kubectl=1.22.6"}, []*Image{win, u22},
			`pool "Deploy" (Ubuntu Server 18.04) lacks kubectl=1.22.6; images that have them: Windows Server Core 2019, Ubuntu Server 22.04`},
		{"none has them", []string{"terraform"}, nil,
			`pool "Deploy" (Ubuntu Server 18.04) lacks terraform; no image available here has them`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := RequirementsError("Deploy", old, requirements(t, tt.missing...), tt.satisfying)
			if tt.want == "" {
				if err != nil {
					t.Errorf("RequirementsError() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrRequirementUnmet) {
				t.Errorf("RequirementsError() = %v, want %q wrapping ErrRequirementUnmet", err, tt.want)
			}
		})
	}
}

// TestRequirementsFlow is how a step's requires are checked: Missing on
// the pool's image, then Satisfying for the fix.
func TestRequirementsFlow(t *testing.T) {
	t.Parallel()
	c := loadTools(t)
	now := utc(2026, 1, 1)
	reqs := requirements(t, "kubectl=1.22.6", "helm>=3")
	r, err := c.Resolve("ubuntu-18.04", now)
	if err != nil {
		t.Fatal(err)
	}
	err = RequirementsError("Deploy", r.Image, r.Image.Missing(reqs), c.Satisfying(reqs, now))
	want := `pool "Deploy" (Ubuntu Server 18.04) lacks kubectl=1.22.6, helm>=3; images that have them: Windows Server Core 2019`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
