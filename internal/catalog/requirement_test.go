package catalog

import (
	"errors"
	"testing"
)

func TestParseRequirement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Requirement
		str  string // String(); "" when an error is wanted
		err  string // the error text
	}{
		{in: "docker", want: Requirement{Tool: "docker"}, str: "docker"},
		{in: "kubectl=1.22.6", want: Requirement{"kubectl", OpEq, "1.22.6"}, str: "kubectl=1.22.6"},
		{in: "helm>=3", want: Requirement{"helm", OpGe, "3"}, str: "helm>=3"},
		{in: "helm>3", want: Requirement{"helm", OpGt, "3"}, str: "helm>3"},
		{in: "helm<=3.1", want: Requirement{"helm", OpLe, "3.1"}, str: "helm<=3.1"},
		{in: "helm<3", want: Requirement{"helm", OpLt, "3"}, str: "helm<3"},
		{in: "  GCloud CLI >=  339.0 ", want: Requirement{"GCloud CLI", OpGe, "339.0"}, str: "GCloud CLI>=339.0"},
		{in: "\tdocker\n", want: Requirement{Tool: "docker"}, str: "docker"},
		{in: "", err: `bad requirement "": empty tool name`},
		{in: "   ", err: `bad requirement "   ": empty tool name`},
		{in: ">=3", err: `bad requirement ">=3": empty tool name`},
		{in: " .-_ =1", err: `bad requirement " .-_ =1": empty tool name`},
		{in: "kubectl==1", err: `bad requirement "kubectl==1": version "=1" is not whole numbers separated by dots`},
		{in: "kubectl>=", err: `bad requirement "kubectl>=": missing version after ">="`},
		{in: "kubectl= ", err: `bad requirement "kubectl= ": missing version after "="`},
		{in: "kubectl=>1", err: `bad requirement "kubectl=>1": version ">1" is not whole numbers separated by dots`},
		{in: "kubectl<>1", err: `bad requirement "kubectl<>1": version ">1" is not whole numbers separated by dots`},
		{in: "helm>=3.x", err: `bad requirement "helm>=3.x": version "3.x" is not whole numbers separated by dots`},
		{in: "helm>=3..1", err: `bad requirement "helm>=3..1": version "3..1" is not whole numbers separated by dots`},
		{in: "helm>=-3", err: `bad requirement "helm>=-3": version "-3" is not whole numbers separated by dots`},
		{in: "helm=latest", err: `bad requirement "helm=latest": version "latest" is not whole numbers separated by dots`},
		{in: "helm>=99999999999999999999", err: `bad requirement "helm>=99999999999999999999": version "99999999999999999999" is not whole numbers separated by dots`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseRequirement(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrBadRequirement) {
					t.Errorf("ParseRequirement() = %+v, %v; want error %q wrapping ErrBadRequirement", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want || got.String() != tt.str {
				t.Fatalf("ParseRequirement() = %+v (%q), %v; want %+v (%q)", got, got.String(), err, tt.want, tt.str)
			}
			if back, err := ParseRequirement(got.String()); err != nil || back != got {
				t.Errorf("ParseRequirement(%q) = %+v, %v; want it to read back %+v", got.String(), back, err, got)
			}
		})
	}
}

func TestRequirementMet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		req     string
		version string // a manifest version
		want    bool
	}{
		{"kubectl", "1.22.6", true},
		{"kubectl", "latest", true},
		{"python", "3.x", true},
		{"kubectl=1.22.6", "1.22.6", true},
		{"kubectl=1.22", "1.22.6", true}, // only the given segments must match
		{"kubectl=1.22.6", "1.22", false},
		{"kubectl=1.22.0", "1.22", true}, // a missing segment is 0
		{"kubectl=1.22.6", "1.22.7", false},
		{"kubectl=1", "1.22.6", true},
		{"kubectl=1.2", "1.22.6", false}, // segments are numbers, not prefixes
		{"helm>=3", "3", true},
		{"helm>=3", "3.0.0", true},
		{"helm>=3.0.1", "3", false},
		{"helm>=3", "2.9.1", false},
		{"helm>3", "3.0.0", false},
		{"helm>3", "3.0.1", true},
		{"kubectl>1.9.0", "1.22.6", true}, // numeric, not lexical
		{"kubectl<1.22", "1.9.0", true},
		{"kubectl<1.22", "1.22.6", false},
		{"kubectl<=1.22.6", "1.22.6", true},
		{"kubectl<=1.22", "1.22.6", false},
		{"helm>=3", "latest", true},
		{"helm>3", "LATEST", true},
		{"helm=3", "latest", false},
		{"helm<3", "latest", false},
		{"helm<=3", "latest", false},
		{"python>=3", "3.x", false}, // not numbers: only a bare name
		{"python=3", "3.x", false},
	}
	for _, tt := range tests {
		t.Run(tt.req+"@"+tt.version, func(t *testing.T) {
			t.Parallel()
			q, err := ParseRequirement(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got := q.met(tt.version); got != tt.want {
				t.Errorf("%s met by %s = %v, want %v", tt.req, tt.version, got, tt.want)
			}
		})
	}
}

func TestRequirementMetUnparsed(t *testing.T) {
	t.Parallel()
	// A Requirement built by hand, not by ParseRequirement, with a bad
	// version or operator meets nothing.
	for _, q := range []Requirement{{"helm", OpGe, "3.x"}, {"helm", "~", "3"}} {
		if q.met("3.0.0") {
			t.Errorf("%+v met by 3.0.0, want not", q)
		}
	}
}

func TestToolKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"GCloud CLI", "gcloud-cli", true},
		{"GCloud CLI", "gcloudcli", true},
		{".NET Core", "netcore", true},
		{".NET Core", "dotnet core", false}, // dotnet is not .NET
		{"Service_Fabric SDK", "service fabric sdk", true},
		{"kubectl", "KUBECTL", true},
		{"kubectl", "kube", false},
	}
	for _, tt := range tests {
		if got := toolKey(tt.a) == toolKey(tt.b); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
