package catalog

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dynpool/dynpool/api"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	tests := []struct {
		ref       string
		now       time.Time
		wantImage string // "" when no Resolution comes back
		wantBuild string // "" when Build is nil
		wantStat  string
		wantErr   error
		wantMsg   string // the error text, when wantErr is set
	}{
		{ref: "ubuntu-default", now: utc(2026, 5, 1), wantImage: "ubuntu-18.04", wantBuild: "2026.03.02-hotfix", wantStat: api.ImageStatusActive},
		{ref: "ubuntu-default", now: utc(2026, 6, 1), wantImage: "ubuntu-20.04", wantBuild: "2026.01.05", wantStat: api.ImageStatusActive},
		{ref: "ubuntu-default", now: utc(2027, 3, 1), wantImage: "ubuntu-24.04", wantBuild: "2026.12.15", wantStat: api.ImageStatusActive},
		{ref: "ubuntu-18.04", now: utc(2026, 1, 5), wantImage: "ubuntu-18.04", wantBuild: "2026.01.05", wantStat: api.ImageStatusActive},
		{ref: "ubuntu-18.04", now: utc(2026, 9, 8), wantImage: "ubuntu-18.04", wantBuild: "2026.03.02-hotfix", wantStat: api.ImageStatusDeprecated},
		{ref: "ubuntu-18.04", now: utc(2026, 10, 13), wantImage: "ubuntu-18.04", wantBuild: "2026.03.02-hotfix", wantStat: api.ImageStatusDecommissioned},
		{ref: "ubuntu-22.04", now: utc(2026, 11, 29), wantImage: "ubuntu-22.04", wantBuild: "2026.01.05", wantStat: api.ImageStatusPreview},
		{
			ref: "ubuntu-18.04", now: utc(2026, 1, 4), wantImage: "ubuntu-18.04", wantStat: api.ImageStatusActive,
			wantErr: ErrNoBuild, wantMsg: `image "ubuntu-18.04": no build released yet`,
		},
		{
			ref: "windows-2022", now: utc(2026, 11, 29), wantImage: "windows-2022", wantStat: api.ImageStatusActive,
			wantErr: ErrNoBuild, wantMsg: `image "windows-2022": no build released yet`,
		},
		{
			ref: "ubuntu-24.04", now: utc(2026, 12, 31),
			wantErr: ErrNotOffered, wantMsg: `image "ubuntu-24.04" is not offered until 2027-01-01`,
		},
		{
			ref: "future-default", now: utc(2027, 5, 31),
			wantErr: ErrNotOffered, wantMsg: `image alias "future-default" is not offered until 2027-06-01`,
		},
		{
			ref: "ubnutu", now: utc(2026, 11, 29), wantErr: ErrUnknownImage,
			wantMsg: `unknown image "ubnutu" (known: ubuntu-18.04, ubuntu-20.04, ubuntu-22.04, ubuntu-24.04, windows-2019, windows-2022, future-default, ubuntu-default, windows-default)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.ref+"@"+tt.now.Format(time.DateOnly), func(t *testing.T) {
			t.Parallel()
			r, err := c.Resolve(tt.ref, tt.now)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("Resolve() error = %v", err)
			}
			if tt.wantErr != nil && (!errors.Is(err, tt.wantErr) || err.Error() != tt.wantMsg) {
				t.Fatalf("Resolve() error = %v, want %q wrapping %v", err, tt.wantMsg, tt.wantErr)
			}
			if tt.wantImage == "" {
				if r != nil {
					t.Fatalf("Resolve() = %+v, want nil", r)
				}
				return
			}
			if r.Ref != tt.ref || r.Image.ID != tt.wantImage || r.Status != tt.wantStat {
				t.Errorf("Resolve() = ref %q image %q status %q, want %q %q %q", r.Ref, r.Image.ID, r.Status, tt.ref, tt.wantImage, tt.wantStat)
			}
			if isAlias := r.Alias != nil; isAlias != (tt.ref != tt.wantImage) {
				t.Errorf("Resolve().Alias = %v, want set only for an alias", r.Alias)
			}
			gotBuild := ""
			if r.Build != nil {
				gotBuild = r.Build.Version
			}
			if gotBuild != tt.wantBuild {
				t.Errorf("Resolve().Build = %q, want %q", gotBuild, tt.wantBuild)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	tests := []struct {
		name string
		ref  string
		now  time.Time
		want []string
	}{
		{"active image", "ubuntu-20.04", utc(2026, 11, 29), []string{}},
		{"preview image", "ubuntu-22.04", utc(2026, 11, 29), []string{"Ubuntu Server 22.04 is in preview: it is in testing and may contain bugs."}},
		{"deprecated image named directly", "ubuntu-18.04", utc(2026, 9, 8), []string{
			"Ubuntu Server 18.04 is deprecated and will be decommissioned on 2026-10-13: edit the pool to use Ubuntu (default) or Ubuntu Server 20.04",
		}},
		// windows-default resolves to windows-2019 itself, so only the
		// family member is offered; windows-2019 has no end of life.
		{"deprecated without end of life", "windows-2019", utc(2026, 12, 1), []string{
			"Windows Server Core 2019 is deprecated: edit the pool to use Windows Server Core 2022",
		}},
		{"deprecated image through an alias", "windows-default", utc(2026, 12, 1), []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := c.Resolve(tt.ref, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Warnings(); !slices.Equal(got, tt.want) || got == nil {
				t.Errorf("Warnings() = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecommissioned(t *testing.T) {
	t.Parallel()
	c := loadTimeline(t)
	tests := []struct {
		name string
		cat  *Catalog
		ref  string
		now  time.Time
		want string // "" for no error
	}{
		{"deprecated is still usable", c, "ubuntu-18.04", utc(2026, 10, 12), ""},
		{"decommissioned, with a fix", c, "ubuntu-18.04", utc(2026, 10, 13),
			`pool "Deploy" uses image Ubuntu Server 18.04, which was decommissioned on 2026-10-13: edit the pool to use Ubuntu (default) or Ubuntu Server 20.04`},
		{"decommissioned through an alias, nothing else to use", lonely(), "old-default", utc(2026, 10, 13),
			`pool "Deploy" uses image Old Linux, which was decommissioned on 2026-10-13`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := tt.cat.Resolve(tt.ref, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			err = r.Decommissioned("Deploy")
			if tt.want == "" {
				if err != nil {
					t.Errorf("Decommissioned() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrDecommissioned) {
				t.Errorf("Decommissioned() = %v, want %q wrapping ErrDecommissioned", err, tt.want)
			}
		})
	}
}

func TestWarningsNothingToSuggest(t *testing.T) {
	t.Parallel()
	r, err := lonely().Resolve("old-linux", utc(2026, 9, 8))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Old Linux is deprecated and will be decommissioned on 2026-10-13"}
	if got := r.Warnings(); !slices.Equal(got, want) {
		t.Errorf("Warnings() = %#v, want %#v", got, want)
	}
}

// lonely returns a catalog whose one image has no family member and whose
// one alias points at it, so nothing else can be suggested.
func lonely() *Catalog {
	img := &Image{
		ID: "old-linux", Name: "Old Linux", OS: OSLinux,
		DeprecationDate: utc(2026, 9, 8), EndOfLifeDate: utc(2026, 10, 13),
		Builds: []*Build{{Version: "1", Released: utc(2026, 1, 1)}},
	}
	return &Catalog{
		Images:  []*Image{img},
		Aliases: []*Alias{{ID: "old-default", Name: "Old (default)", OS: OSLinux, Targets: []AliasTarget{{Image: img.ID}}}},
	}
}

func TestSuggestNewestOfFamily(t *testing.T) {
	t.Parallel()
	now := utc(2026, 9, 8)
	image := func(id string, start time.Time, preview bool) *Image {
		return &Image{ID: id, Name: "Linux " + id, OS: OSLinux, Family: "linux", StartDate: start, Preview: preview,
			Builds: []*Build{{Version: "1", Released: utc(2026, 1, 1)}}}
	}
	old := image("old", utc(2018, 1, 1), false)
	old.DeprecationDate = now
	tests := []struct {
		name   string
		others []*Image
		want   string
	}{
		{"the latest start date wins, whatever the file order", []*Image{image("2024", utc(2024, 1, 1), false), image("2022", utc(2022, 1, 1), false)}, "Linux 2024"},
		{"active before a newer preview", []*Image{image("2022", utc(2022, 1, 1), false), image("2024", utc(2024, 1, 1), true)}, "Linux 2022"},
		{"a preview when nothing is active", []*Image{image("2024", utc(2024, 1, 1), true)}, "Linux 2024"},
		{"not one that is not offered yet", []*Image{image("2022", utc(2022, 1, 1), false), image("2030", utc(2030, 1, 1), false)}, "Linux 2022"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &Catalog{Images: append([]*Image{old}, tt.others...)}
			r, err := c.Resolve("old", now)
			if err != nil {
				t.Fatal(err)
			}
			want := "Linux old is deprecated: edit the pool to use " + tt.want
			if got := r.Warnings(); len(got) != 1 || got[0] != want {
				t.Errorf("Warnings() = %q, want [%q]", got, want)
			}
		})
	}
}
