package main

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestImagesList(t *testing.T) {
	t.Parallel()
	images := `{"images":[{"id":"ubuntu-22.04","name":"Ubuntu Server 22.04","os":"linux","status":"deprecated",
	 "deprecation_date":"2026-09-08","end_of_life_date":"2026-10-13",
	 "builds":[{"version":"2026.11.02","released":"2026-11-02"},{"version":"2026.10.01","released":"2026-10-01"}]}],
	 "aliases":[{"id":"ubuntu-default","name":"Ubuntu (default)","os":"linux","resolves_to":"ubuntu-22.04"}]}`
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/images": jsonAnswer(200, images)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "images", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `ID            NAME                 OS     STATUS      DEPRECATION  END OF LIFE  LATEST BUILD
ubuntu-22.04  Ubuntu Server 22.04  linux  deprecated  2026-09-08   2026-10-13   2026.11.02

ID              NAME              RESOLVES TO
ubuntu-default  Ubuntu (default)  ubuntu-22.04
`
	if out != want {
		t.Errorf("stdout =\n%s\nwant\n%s", out, want)
	}
	f = newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/images": jsonAnswer(200, images)})
	checkCommand(t, f, []string{"-o", "json", "images", "list"}, "GET /api/v1/images", "", `"resolves_to": "ubuntu-22.04"`)
}

const imageJSON = `{"id":"ubuntu-22.04","name":"Ubuntu Server 22.04","os":"linux","family":"ubuntu","status":"active",
 "start_date":"2024-05-01","deprecation_date":"","end_of_life_date":"2027-04-30",
 "tools":[{"name":"kubectl","versions":["1.22.6","1.28.0"],"path":"/opt/kubectl/{{version}}/kubectl"},{"name":"docker","versions":["27.1"]}],
 "builds":[{"version":"2026.10.01","released":"2026-10-01"},{"version":"2026.11.28","released":"2026-11-28"}]}`

func TestImagesShow(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/images/ubuntu-22.04": jsonAnswer(200, imageJSON)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "images", "show", "ubuntu-22.04")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `ID:           ubuntu-22.04
NAME:         Ubuntu Server 22.04
OS:           linux
FAMILY:       ubuntu
STATUS:       active
START:        2024-05-01
DEPRECATION:  -
END OF LIFE:  2027-04-30

NAME     VERSIONS        PATH
kubectl  1.22.6, 1.28.0  /opt/kubectl/{{version}}/kubectl
docker   27.1            -

VERSION     RELEASED
2026.10.01  2026-10-01
2026.11.28  2026-11-28
`
	if out != want {
		t.Errorf("stdout =\n%s\nwant\n%s", out, want)
	}
	if len(f.called("GET /api/v1/images/ubuntu-22.04")) != 1 {
		t.Error("the image was not asked for")
	}
	f = newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/images/ubuntu-22.04": jsonAnswer(200, imageJSON)})
	checkCommand(t, f, []string{"-o", "json", "images", "show", "ubuntu-22.04"}, "GET /api/v1/images/ubuntu-22.04", "",
		`"path": "/opt/kubectl/{{version}}/kubectl"`)
}

func TestImagesAdminCommands(t *testing.T) {
	t.Parallel()
	list := `{"images":[` + imageJSON + `],"aliases":[{"id":"ubuntu-default","name":"Ubuntu (default)","resolves_to":"ubuntu-22.04"}]}`
	deprecations := `{"deprecations":[{"tenant_id":"t1","tenant_name":"acme","pool_id":"p2","pool_name":"old","image":"ubuntu-18.04",
	 "image_name":"Ubuntu Server 18.04","status":"deprecated","end_of_life_date":"2026-12-10","days_left":11},
	 {"tenant_id":"t2","pool_id":"p7","image":"win-2019"}]}`
	tests := []struct {
		name     string
		args     []string
		route    string
		wantBody string
		wantOut  string
	}{
		{"reload", []string{"images", "reload"}, "POST /api/v1/admin/catalog/reload", "",
			"ubuntu-22.04  Ubuntu Server 22.04  linux  active  -            2027-04-30   2026.11.28\n\nID              NAME              RESOLVES TO\n"},
		{"reload json", []string{"-o", "json", "images", "reload"}, "POST /api/v1/admin/catalog/reload", "", `"resolves_to": "ubuntu-22.04"`},
		{"add-build", []string{"images", "add-build", "ubuntu-22.04", "--version", "2026.11.28", "--released", "2026-11-28",
			"--artifact", "process=", "--artifact", "docker=registry/ubuntu:22.04-2026.11.28"},
			"POST /api/v1/admin/images/ubuntu-22.04/builds",
			`{"version":"2026.11.28","released":"2026-11-28","artifacts":{"process":"","docker":"registry/ubuntu:22.04-2026.11.28"}}`,
			"VERSION     RELEASED\n2026.10.01  2026-10-01\n2026.11.28  2026-11-28\n"},
		{"add-build without artifacts", []string{"images", "add-build", "ubuntu-22.04", "--version", "b2", "--released", "2026-12-01"},
			"POST /api/v1/admin/images/ubuntu-22.04/builds", `{"version":"b2","released":"2026-12-01","artifacts":{}}`, "ID:           ubuntu-22.04\n"},
		{"add-build json", []string{"-o", "json", "images", "add-build", "ubuntu-22.04", "--version", "b2", "--released", "2026-12-01",
			"--artifact", "docker=a=b"},
			"POST /api/v1/admin/images/ubuntu-22.04/builds", `{"version":"b2","released":"2026-12-01","artifacts":{"docker":"a=b"}}`,
			`"version": "2026.11.28"`},
		{"deprecations", []string{"images", "deprecations"}, "GET /api/v1/admin/deprecations", "",
			"TENANT  POOL  IMAGE         STATUS      END OF LIFE  DAYS LEFT\nacme    old   ubuntu-18.04  deprecated  2026-12-10   11\nt2      p7    win-2019      -           -            -\n"},
		{"deprecations json", []string{"-o", "json", "images", "deprecations"}, "GET /api/v1/admin/deprecations", "",
			`"days_left": 11`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"POST /api/v1/admin/catalog/reload":             jsonAnswer(200, list),
				"POST /api/v1/admin/images/ubuntu-22.04/builds": jsonAnswer(201, imageJSON),
				"GET /api/v1/admin/deprecations":                jsonAnswer(200, deprecations),
			})
			checkCommand(t, f, tt.args, tt.route, tt.wantBody, tt.wantOut)
		})
	}
}

func TestImagesDeprecationsNone(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		output, want string
	}{
		{outputTable, "no pool uses a deprecated or decommissioned image\n"},
		{outputJSON, "[]\n"},
	} {
		for _, answer := range []string{`{"deprecations":[]}`, `{}`} {
			f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/admin/deprecations": jsonAnswer(200, answer)})
			code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "-o", tt.output, "images", "deprecations")
			if code != 0 || out != tt.want {
				t.Errorf("-o %s, answer %s: exit %d, stdout %q, stderr %q; want %q", tt.output, answer, code, out, errOut, tt.want)
			}
		}
	}
}

func TestImagesAddBuildRefusesMalformedArtifact(t *testing.T) {
	t.Parallel()
	for _, artifact := range []string{"docker", "=registry/ubuntu:22.04"} {
		f := newFakeAPI(t, nil)
		code, _, errOut := runCLI(t.Context(), nil, "--server", f.url, "images", "add-build", "ubuntu-22.04",
			"--version", "b2", "--released", "2026-12-01", "--artifact", "process=", "--artifact", artifact)
		want := `invalid --artifact "` + artifact + `": want PROVIDER=REF, e.g. process= or docker=registry/image:tag`
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("--artifact %s: exit %d, stderr %q; want 1 and %q", artifact, code, errOut, want)
		}
		if len(f.called("")) != 0 {
			t.Errorf("--artifact %s: a request was sent: %+v", artifact, f.called(""))
		}
	}
}

func TestParseArtifacts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      []string
		want    map[string]string
		wantErr string
	}{
		{nil, map[string]string{}, ""},
		{[]string{"process="}, map[string]string{"process": ""}, ""},
		{[]string{"docker=reg/x:1=2", "process="}, map[string]string{"docker": "reg/x:1=2", "process": ""}, ""},
		{[]string{"process"}, nil, "want PROVIDER=REF"},
		{[]string{"=x"}, nil, "want PROVIDER=REF"},
		{[]string{"docker=a", "docker=b"}, nil, "provider docker given twice"},
	}
	for _, tt := range tests {
		got, err := parseArtifacts(tt.in)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("parseArtifacts(%q) error = %v, want %q", tt.in, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || !reflect.DeepEqual(got, tt.want)):
			t.Errorf("parseArtifacts(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestImagesShowBrownouts(t *testing.T) {
	t.Parallel()
	withBrownout := strings.TrimSuffix(imageJSON, "}") + `,"brownouts":[{"from":"2027-04-01T14:00:00Z","to":"2027-04-01T18:00:00Z"}]}`
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/images/ubuntu-22.04": jsonAnswer(200, withBrownout)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "images", "show", "ubuntu-22.04")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasSuffix(out, "\nBROWNOUT FROM         TO (steps on the image fail in between)\n2027-04-01 14:00 UTC  2027-04-01 18:00 UTC\n") {
		t.Errorf("stdout =\n%s\nwant it to end with the brownout window", out)
	}
}
