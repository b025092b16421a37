package task

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/id"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
)

// Limits on a task request.
const (
	MaxSteps      = 100
	MaxScriptSize = 1 << 20 // bytes, one step's script
	// MaxTaskScripts bounds the scripts of all steps of a task together.
	MaxTaskScripts = 4 << 20 // bytes
	MaxNameLength  = 200
)

var syntaxes = []string{api.SyntaxBash, api.SyntaxSh, api.SyntaxPython, api.SyntaxPowerShell}

// Submit validates req for tenant t, writes the task and its steps (all
// queued) and starts running it. Bad input returns a *validation.Error
// naming the field; nothing is written then.
func (r *Runner) Submit(ctx context.Context, t *store.Tenant, req *api.CreateTaskRequest) (*store.Task, error) {
	req, templates, err := r.expandTemplates(ctx, t, req)
	if err != nil {
		return nil, err
	}
	task, err := r.build(ctx, t, req, templates.params)
	if err != nil {
		return nil, err
	}
	if err := r.store.TaskCreate(ctx, task); err != nil {
		return nil, fmt.Errorf("create task: %w", err)
	}
	r.log(ctx, task.ID, "", api.LevelInfo, "Task %q queued with %d step(s)", task.Name, len(task.Steps))
	r.logTemplateWarnings(ctx, task, templates)
	r.start(task.ID)
	return task, nil
}

func (r *Runner) build(ctx context.Context, t *store.Tenant, req *api.CreateTaskRequest, params map[int][]api.Variable) (*store.Task, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = "Run"
	}
	if len(name) > MaxNameLength {
		return nil, validation.Errorf("name", "is longer than %d characters", MaxNameLength)
	}
	if err := validation.Text("name", name); err != nil {
		return nil, err
	}
	if len(req.Steps) == 0 {
		return nil, validation.Errorf("steps", "a task needs at least one step")
	}
	if len(req.Steps) > MaxSteps {
		return nil, validation.Errorf("steps", "a task has at most %d steps, this one has %d", MaxSteps, len(req.Steps))
	}
	total := 0
	for _, sr := range req.Steps {
		total += len(sr.Script)
	}
	if total > MaxTaskScripts {
		return nil, validation.Errorf("steps", "the scripts of the task total %d bytes, more than the limit of %d", total, MaxTaskScripts)
	}
	now := r.cfg.Clock.Now()
	until := now.Add(r.cfg.LeasePeriod)
	task := &store.Task{
		ID: id.New("task"), TenantID: t.ID, Name: name, State: api.StateQueued, CreatedAt: now,
		Owner: r.cfg.Owner, OwnerUntil: &until,
	}
	for i, sr := range req.Steps {
		s, err := r.buildStep(ctx, t, i, &sr)
		if err != nil {
			return nil, err
		}
		s.TaskID = task.ID
		task.Steps = append(task.Steps, s)
	}
	if err := r.buildVariables(task, req, params); err != nil {
		return nil, err
	}
	return task, nil
}

func (r *Runner) buildStep(ctx context.Context, t *store.Tenant, i int, sr *api.StepRequest) (*store.Step, error) {
	field := func(f string) string { return fmt.Sprintf("steps[%d].%s", i, f) }
	name := strings.TrimSpace(sr.Name)
	if name == "" {
		name = fmt.Sprintf("Step %d", i+1)
	}
	if len(name) > MaxNameLength {
		return nil, validation.Errorf(field("name"), "is longer than %d characters", MaxNameLength)
	}
	if err := validation.Text(field("name"), name); err != nil {
		return nil, err
	}
	syntax, err := CheckScript(fmt.Sprintf("steps[%d]", i), sr.Syntax, sr.Script, MaxScriptSize)
	if err != nil {
		return nil, err
	}
	image, err := r.containerImage(field("container"), sr.Container)
	if err != nil {
		return nil, err
	}
	var requires []string
	for j, q := range sr.Requires {
		req, err := catalog.ParseRequirement(q)
		if err != nil {
			return nil, validation.Errorf(fmt.Sprintf("steps[%d].requires[%d]", i, j), "%v", err)
		}
		requires = append(requires, req.String())
	}
	pool, err := r.stepPool(ctx, t, field("pool"), sr.Pool)
	if err != nil {
		return nil, err
	}
	return &store.Step{
		ID: id.New("step"), Index: i, Name: name, PoolID: pool.ID,
		Syntax: syntax, Script: sr.Script, ContainerImage: image, Requires: requires, State: api.StateQueued,
	}, nil
}

func (r *Runner) stepPool(ctx context.Context, t *store.Tenant, field, ref string) (*store.Pool, error) {
	if ref == "" {
		p, err := r.store.PoolGetDefault(ctx, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, validation.Errorf(field, "the step names no pool and the tenant has no default pool; create a pool first")
		}
		if err != nil {
			return nil, fmt.Errorf("get default pool: %w", err)
		}
		return p, nil
	}
	p, err := r.store.PoolGet(ctx, t.ID, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, validation.Errorf(field, "no pool with id or name %q", ref)
	}
	if err != nil {
		return nil, fmt.Errorf("get pool: %w", err)
	}
	return p, nil
}

// CheckScript checks a script and its syntax as a step's are checked, and
// returns the syntax ("" is bash). Its validation errors name
// prefix+".syntax" or prefix+".script": an unknown syntax, a script that
// is empty, not valid UTF-8, holds a NUL, or is longer than maxSize bytes.
// A static pool's health check is checked so too.
func CheckScript(prefix, syntax, script string, maxSize int) (string, error) {
	if err := validation.Text(prefix+".script", script); err != nil {
		return "", err
	}
	given := syntax
	if syntax == "" {
		syntax = api.SyntaxBash
	}
	if !slices.Contains(syntaxes, syntax) {
		return "", validation.Errorf(prefix+".syntax", "unknown syntax %q (want one of %s)", given, strings.Join(syntaxes, ", "))
	}
	if strings.TrimSpace(script) == "" {
		return "", validation.Errorf(prefix+".script", "the script is empty")
	}
	if len(script) > maxSize {
		return "", validation.Errorf(prefix+".script", "the script is %d bytes, more than the limit of %d", len(script), maxSize)
	}
	return syntax, nil
}
