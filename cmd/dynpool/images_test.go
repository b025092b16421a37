package main

import (
	"net/http"
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
