package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

const poolsJSON = `{"pools":[
 {"id":"p1","name":"linux","type":"dynamic","image":"ubuntu-default","resolved_image":"ubuntu-22.04","is_default":true,"capacity":4,"deprecated":false,"image_status":"active","warnings":[]},
 {"id":"p2","name":"old","type":"dynamic","image":"ubuntu-18.04","resolved_image":"ubuntu-18.04","is_default":false,"capacity":1,"deprecated":true,"image_status":"deprecated",
  "warnings":["image ubuntu-18.04 is deprecated and is decommissioned on 2026-10-13; change the pool to ubuntu-default"]},
 {"id":"p3","name":"gone","type":"dynamic","image":"ubuntu-16.04","resolved_image":"ubuntu-16.04","is_default":false,"capacity":1,"deprecated":false,"image_status":"decommissioned","warnings":[]},
 {"id":"p4","name":"next","type":"dynamic","image":"ubuntu-24.04","resolved_image":"ubuntu-24.04","is_default":false,"capacity":1,"deprecated":false,"image_status":"preview","warnings":[]}]}`

func TestPoolsListTable(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/pools": jsonAnswer(200, poolsJSON)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "pools", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `ID  NAME   TYPE     IMAGE           RESOLVED      DEFAULT  CAPACITY  STATUS
p1  linux  dynamic  ubuntu-default  ubuntu-22.04  yes      4         ok
p2  old    dynamic  ubuntu-18.04    ubuntu-18.04  no       1         Deprecated
p3  gone   dynamic  ubuntu-16.04    ubuntu-16.04  no       1         Decommissioned
p4  next   dynamic  ubuntu-24.04    ubuntu-24.04  no       1         Preview
warning: pool old: image ubuntu-18.04 is deprecated and is decommissioned on 2026-10-13; change the pool to ubuntu-default
`
	if out != want {
		t.Errorf("stdout =\n%s\nwant\n%s", out, want)
	}
}

func TestPoolsListJSON(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, map[string]http.HandlerFunc{"GET /api/v1/pools": jsonAnswer(200, poolsJSON)})
	code, out, errOut := runCLI(t.Context(), nil, "--server", f.url, "-o", "json", "pools", "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var ps []api.Pool
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatalf("stdout is not a JSON pool array: %v\n%s", err, out)
	}
	if len(ps) != 4 || !ps[1].Deprecated || len(ps[1].Warnings) != 1 {
		t.Errorf("pools = %+v", ps)
	}
	if !strings.Contains(out, "\n  {") {
		t.Errorf("stdout is not indented:\n%s", out)
	}
}

func TestPoolsWrites(t *testing.T) {
	t.Parallel()
	pool := `{"id":"p1","name":"linux","type":"dynamic","image":"ubuntu-22.04","resolved_image":"ubuntu-22.04","is_default":true}`
	tests := []struct {
		name     string
		args     []string
		route    string
		wantBody string
		wantOut  string
	}{
		{"create", []string{"pools", "create", "linux", "--image", "ubuntu-22.04", "--default"},
			"POST /api/v1/pools", `{"name":"linux","image":"ubuntu-22.04","is_default":true}`, "p1  linux"},
		{"edit", []string{"pools", "edit", "p1", "--image", "ubuntu-22.04", "--default"},
			"PATCH /api/v1/pools/p1", `{"image":"ubuntu-22.04","is_default":true}`, "p1  linux"},
		{"create with a limit", []string{"pools", "create", "linux", "--image", "ubuntu-22.04", "--max-workers", "3"},
			"POST /api/v1/pools", `{"name":"linux","image":"ubuntu-22.04","max_workers":3}`, "p1  linux"},
		{"create with a capacity", []string{"pools", "create", "linux", "--image", "ubuntu-22.04", "--capacity", "4"},
			"POST /api/v1/pools", `{"name":"linux","image":"ubuntu-22.04","capacity":4}`, "p1  linux"},
		{"change the capacity", []string{"pools", "edit", "p1", "--capacity", "2"},
			"PATCH /api/v1/pools/p1", `{"capacity":2}`, "p1  linux"},
		{"remove the limit", []string{"pools", "edit", "p1", "--max-workers", "0"},
			"PATCH /api/v1/pools/p1", `{"max_workers":0}`, "p1  linux"},
		{"rename json", []string{"-o", "json", "pools", "edit", "p1", "--name", "linux"},
			"PATCH /api/v1/pools/p1", `{"name":"linux"}`, `"resolved_image": "ubuntu-22.04"`},
		{"delete", []string{"pools", "delete", "p1"}, "DELETE /api/v1/pools/p1", "", "deleted pool p1\n"},
		{"delete json", []string{"-o", "json", "pools", "delete", "p1"}, "DELETE /api/v1/pools/p1", "", `"deleted": "p1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, map[string]http.HandlerFunc{
				"POST /api/v1/pools":      jsonAnswer(201, pool),
				"PATCH /api/v1/pools/p1":  jsonAnswer(200, pool),
				"DELETE /api/v1/pools/p1": jsonAnswer(204, ""),
			})
			checkCommand(t, f, tt.args, tt.route, tt.wantBody, tt.wantOut)
		})
	}
}

// checkCommand runs args against f and checks it made one call to route
// with wantBody (JSON, "" for none) and printed wantOut somewhere.
func checkCommand(t *testing.T, f *fakeAPI, args []string, route, wantBody, wantOut string) {
	t.Helper()
	code, out, errOut := runCLI(t.Context(), nil, append([]string{"--server", f.url}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	calls := f.called(route)
	if len(calls) != 1 {
		t.Fatalf("%d calls to %s, want 1", len(calls), route)
	}
	if got := calls[0].body; wantBody == "" && got != "" || wantBody != "" && !jsonEqual(t, got, wantBody) {
		t.Errorf("body = %s, want %s", got, wantBody)
	}
	if !strings.Contains(out, wantOut) {
		t.Errorf("stdout = %q, want it to contain %q", out, wantOut)
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatalf("decode %s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}
