package catalog

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/dynpool/dynpool/api"
)

func TestAPI(t *testing.T) {
	t.Parallel()
	list := loadTimeline(t).API(utc(2026, 11, 29))

	var ids []string
	images := map[string]api.Image{}
	for _, img := range list.Images {
		ids = append(ids, img.ID)
		images[img.ID] = img
	}
	// ubuntu-24.04 starts on 2027-01-01, so it is not listed yet.
	if got, want := strings.Join(ids, ","), "ubuntu-18.04,ubuntu-20.04,ubuntu-22.04,windows-2019,windows-2022"; got != want {
		t.Errorf("image ids = %s, want %s", got, want)
	}
	old := images["ubuntu-18.04"]
	if old.Status != api.ImageStatusDecommissioned || old.StartDate != "2020-01-01" ||
		old.DeprecationDate != "2026-09-08" || old.EndOfLifeDate != "2026-10-13" || old.Family != "ubuntu" {
		t.Errorf("ubuntu-18.04 = %+v, want decommissioned with its dates", old)
	}
	if len(old.Builds) != 3 || old.Builds[0] != (api.Build{Version: "2026.01.05", Released: "2026-01-05"}) {
		t.Errorf("ubuntu-18.04 builds = %+v, want 3, the first 2026.01.05", old.Builds)
	}
	if len(old.Tools) != 2 || old.Tools[1].Path != "/opt/kubectl/{{version}}/kubectl" {
		t.Errorf("ubuntu-18.04 tools = %+v, want docker and kubectl with a path", old.Tools)
	}
	if got := images["ubuntu-22.04"].Status; got != api.ImageStatusPreview {
		t.Errorf("ubuntu-22.04 status = %q, want preview", got)
	}
	if got := images["windows-2019"]; got.DeprecationDate != "2026-12-01" || got.EndOfLifeDate != "" || got.StartDate != "" {
		t.Errorf("windows-2019 dates = %q %q %q, want start \"\", deprecation 2026-12-01, end of life \"\"", got.StartDate, got.DeprecationDate, got.EndOfLifeDate)
	}

	resolves := map[string]string{}
	for _, a := range list.Aliases {
		resolves[a.ID] = a.ResolvesTo
	}
	want := map[string]string{"ubuntu-default": "ubuntu-20.04", "windows-default": "windows-2019", "future-default": ""}
	for id, to := range want {
		if got, ok := resolves[id]; !ok || got != to {
			t.Errorf("alias %s resolves_to = %q, want %q", id, got, to)
		}
	}

	// windows-2022's only build comes on 2026-12-01: listed with no builds,
	// encoded as [] rather than null.
	body, err := json.Marshal(images["windows-2022"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"builds":[]`) || !strings.Contains(string(body), `"tools":[]`) {
		t.Errorf("windows-2022 JSON = %s, want empty builds and tools as []", body)
	}
}
