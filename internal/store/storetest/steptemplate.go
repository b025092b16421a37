package storetest

import (
	"testing"
	"time"

	"github.com/dynpool/dynpool/internal/store"
)

// newStepTemplate returns version version (0: next) of template name,
// proposed with id, for tenant tenantID.
func newStepTemplate(tenantID, id, name string, version int, d time.Duration) *store.StepTemplate {
	return &store.StepTemplate{ID: id, TenantID: tenantID, Name: name, Version: version,
		Description: "says hello", Syntax: "bash", ScriptBody: "echo '#{Greeting}'",
		Parameters: []store.StepTemplateParameter{
			{Name: "Greeting", Label: "Greeting", HelpText: "what to say", DefaultValue: "hi", HasDefault: true, ControlType: "SingleLineText"},
			{Name: "Api.Key", DefaultValue: "sealed", HasDefault: true, Sensitive: true, ControlType: "Sensitive"},
		},
		LibraryID: "lib-" + name, Digest: "digest", CreatedAt: at(d)}
}

func testStepTemplate(t *testing.T, open opener) {
	t.Run("VersionsGetListDelete", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		newTenant(t, s, "t1", 0)
		newTenant(t, s, "t2", 0)
		ctx := t.Context()

		v1 := newStepTemplate("t1", "st1", "Hello", 0, 0)
		must(t, "create first version", s.StepTemplateCreate(ctx, v1))
		check(t, "first version", v1.Version, 1)
		// A new version of the same name keeps the template's id; the
		// proposed id is replaced.
		v2 := newStepTemplate("t1", "ignored", "Hello", 0, time.Minute)
		v2.ScriptBody = "echo v2"
		must(t, "create second version", s.StepTemplateCreate(ctx, v2))
		check(t, "second version id and number", []any{v2.ID, v2.Version}, []any{"st1", 2})
		// A version given by the file is kept, gaps and all.
		v7 := newStepTemplate("t1", "ignored", "Hello", 7, 2*time.Minute)
		must(t, "create version 7", s.StepTemplateCreate(ctx, v7))
		wantErr(t, "version 7 again", s.StepTemplateCreate(ctx, newStepTemplate("t1", "x", "Hello", 7, 0)), store.ErrConflict)
		v8 := newStepTemplate("t1", "x", "Hello", 0, 3*time.Minute)
		must(t, "create version after 7", s.StepTemplateCreate(ctx, v8))
		check(t, "version after 7", v8.Version, 8)

		newest, err := s.StepTemplateGet(ctx, "t1", "st1", 0)
		must(t, "get newest", err)
		check(t, "newest", newest, v8)
		got, err := s.StepTemplateGet(ctx, "t1", "st1", 2)
		must(t, "get version 2", err)
		check(t, "version 2", got, v2)
		_, err = s.StepTemplateGet(ctx, "t1", "st1", 3)
		wantErr(t, "get a missing version", err, store.ErrNotFound)
		_, err = s.StepTemplateGet(ctx, "t2", "st1", 0)
		wantErr(t, "get another tenant's template", err, store.ErrNotFound)

		// Another tenant's template of the same name is its own.
		other := newStepTemplate("t2", "st2", "Hello", 0, 0)
		must(t, "create in t2", s.StepTemplateCreate(ctx, other))
		check(t, "t2's template", []any{other.ID, other.Version}, []any{"st2", 1})
		abc := newStepTemplate("t1", "st3", "Abc", 0, 0)
		abc.Parameters = nil
		must(t, "create Abc", s.StepTemplateCreate(ctx, abc))

		list, err := s.StepTemplateList(ctx, "t1")
		must(t, "list", err)
		check(t, "list: newest of each, by name", list, []*store.StepTemplate{abc, v8})

		wantErr(t, "delete another tenant's template", s.StepTemplateDelete(ctx, "t2", "st1"), store.ErrNotFound)
		must(t, "delete", s.StepTemplateDelete(ctx, "t1", "st1"))
		_, err = s.StepTemplateGet(ctx, "t1", "st1", 2)
		wantErr(t, "get a deleted version", err, store.ErrNotFound)
		wantErr(t, "delete twice", s.StepTemplateDelete(ctx, "t1", "st1"), store.ErrNotFound)
		list, err = s.StepTemplateList(ctx, "t1")
		must(t, "list after delete", err)
		check(t, "list after delete", list, []*store.StepTemplate{abc})
		list, err = s.StepTemplateList(ctx, "t2")
		must(t, "list t2", err)
		check(t, "t2 keeps its template", list, []*store.StepTemplate{other})

		wantErr(t, "create for an unknown tenant",
			s.StepTemplateCreate(ctx, newStepTemplate("nope", "x", "Hello", 0, 0)), store.ErrNotFound)
	})
}
