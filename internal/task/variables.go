package task

import (
	"context"
	"fmt"
	"slices"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/internal/store"
	"github.com/dynpool/dynpool/internal/validation"
	"github.com/dynpool/dynpool/internal/variable"
)

// Environment variables every job's script gets from the server, besides
// the agent's own (DYNPOOL_WORKER_ID, ...).
const (
	// EnvJobID names the job (the step id) the script runs as.
	EnvJobID = "DYNPOOL_JOB_ID"
	// EnvJobToken is the job's credential: it opens the artifact calls of
	// this one job, and only while the job runs on its worker.
	EnvJobToken = "DYNPOOL_JOB_TOKEN"
)

// checkVariables validates one list of request variables; field names the
// list ("variables", "steps[1].variables").
func checkVariables(field string, vars []api.Variable) error {
	seen := map[string]bool{}
	for i, v := range vars {
		f := fmt.Sprintf("%s[%d]", field, i)
		if err := variable.CheckName(v.Name); err != nil {
			return validation.Errorf(f+".name", "%v", err)
		}
		if seen[v.Name] {
			return validation.Errorf(f+".name", "%q is given twice", v.Name)
		}
		seen[v.Name] = true
		if len(v.Value) > variable.MaxValueSize {
			return validation.Errorf(f+".value", "is longer than %d bytes", variable.MaxValueSize)
		}
		if err := validation.Text(f+".value", v.Value); err != nil {
			return err
		}
	}
	return nil
}

// buildVariables checks the variables of req and puts them on task, whose
// steps have their ids already; sensitive values are sealed. params are
// the step template parameters of each step, checked already.
func (r *Runner) buildVariables(task *store.Task, req *api.CreateTaskRequest, params map[int][]api.Variable) error {
	total := len(req.Variables)
	if err := checkVariables("variables", req.Variables); err != nil {
		return err
	}
	for i, sr := range req.Steps {
		total += len(sr.Variables) + len(params[i])
		if err := checkVariables(fmt.Sprintf("steps[%d].variables", i), sr.Variables); err != nil {
			return err
		}
	}
	if total > variable.MaxVariables {
		return validation.Errorf("variables", "a task and its steps have at most %d variables together, this one has %d", variable.MaxVariables, total)
	}
	add := func(kind, stepID string, v api.Variable) {
		sv := &store.Variable{TaskID: task.ID, Kind: kind, StepID: stepID, Name: v.Name, Value: v.Value,
			Sensitive: v.Sensitive, UpdatedAt: task.CreatedAt}
		if sv.Sensitive {
			sv.Value = r.cfg.Secrets.Seal(v.Value, place(sv))
		}
		task.Variables = append(task.Variables, sv)
	}
	for _, v := range req.Variables {
		add(store.VariableTask, "", v)
	}
	for i, sr := range req.Steps {
		for _, v := range slices.Concat(sr.Variables, params[i]) {
			add(store.VariableStep, task.Steps[i].ID, v)
		}
	}
	return nil
}

// place binds a sealed value to its row: task, kind, step of a step
// input, name.
func place(v *store.Variable) string {
	scope := ""
	if v.Kind == store.VariableStep {
		scope = v.StepID
	}
	return v.TaskID + "/" + v.Kind + "/" + scope + "/" + v.Name
}

// taskVariables are the variables of one task with the sensitive values
// opened.
type taskVariables struct {
	list []*store.Variable // values in plain text
}

// loadVariables reads and opens the variables of task taskID. A value
// that does not open (the secret key changed since it was sealed) is an
// error naming the variable, never a silent empty value.
func (r *Runner) loadVariables(ctx context.Context, taskID string) (*taskVariables, error) {
	vs, err := r.store.VariableList(ctx, taskID)
	if err != nil {
		return nil, fmt.Errorf("list variables of task %s: %w", taskID, err)
	}
	for _, v := range vs {
		if !v.Sensitive {
			continue
		}
		plain, err := r.cfg.Secrets.Open(v.Value, place(v))
		if err != nil {
			return nil, fmt.Errorf("sensitive variable %s cannot be decrypted (was the server's secret key changed since it was stored?): %w", v.Name, err)
		}
		v.Value = plain
	}
	return &taskVariables{list: vs}, nil
}

// env returns the environment of step stepID: task inputs, then outputs
// of earlier steps, then the step's own inputs, each winning over the
// ones before.
func (tv *taskVariables) env(stepID string) map[string]string {
	env := map[string]string{}
	for _, kind := range []string{store.VariableTask, store.VariableOutput, store.VariableStep} {
		for _, v := range tv.list {
			if v.Kind == kind && (kind != store.VariableStep || v.StepID == stepID) {
				env[v.Name] = v.Value
			}
		}
	}
	return env
}

// masker returns a Masker of every sensitive value of the task.
func (tv *taskVariables) masker() *variable.Masker {
	m := variable.NewMasker()
	m.Add(tv.secrets()...)
	return m
}

// secrets returns every sensitive value of the task.
func (tv *taskVariables) secrets() []string {
	var out []string
	for _, v := range tv.list {
		if v.Sensitive {
			out = append(out, v.Value)
		}
	}
	return out
}

// jobCredential is the credential of step stepID on worker workerID.
func (r *Runner) jobCredential(stepID, workerID string) string {
	return r.cfg.Secrets.Credential("dpj", "job", stepID+"/"+workerID)
}

// prepareJob adds the task's variables, the job's credential and the
// masks to job, for step s on worker w.
func (r *Runner) prepareJob(ctx context.Context, s *store.Step, w *store.Worker, job *api.Job) error {
	tv, err := r.loadVariables(ctx, s.TaskID)
	if err != nil {
		return err
	}
	if job.Env == nil {
		job.Env = map[string]string{}
	}
	for k, v := range tv.env(s.ID) {
		job.Env[k] = v
	}
	job.Env[EnvJobID] = s.ID
	job.Env[EnvJobToken] = r.jobCredential(s.ID, w.ID)
	// The credential is masked too: a log outlives the job it opens.
	job.Masks = append(tv.secrets(), job.Env[EnvJobToken])
	return nil
}

// outputLines turns output lines of step s into task log lines: a service
// message sets an output variable and shows as "Output variable X set",
// any other line has the task's sensitive values masked.
func (r *Runner) outputLines(ctx context.Context, t *store.Task, s *store.Step, lines []api.AgentLogLine) ([]store.LogLine, error) {
	tv, err := r.loadVariables(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	m := tv.masker()
	if s.WorkerID != "" {
		m.Add(r.jobCredential(s.ID, s.WorkerID))
	}
	out := make([]store.LogLine, 0, len(lines))
	for _, l := range lines {
		level := api.LevelInfo
		if l.Stream == api.StreamStderr {
			level = api.LevelWarning
		}
		msg := l.Message
		if sv, err := variable.Parse(msg); err != variable.ErrNotMessage {
			if sv != nil && !sv.Sensitive && m.Mask(sv.Value) != sv.Value {
				// A known secret copied into an output variable stays one.
				sv.Sensitive = true
			}
			msg, level, err = r.setOutput(ctx, t, s, sv, err)
			if err != nil {
				return nil, err
			}
			if sv != nil && sv.Sensitive {
				m.Add(sv.Value)
			}
		}
		// The replacement line too: a parse error may quote the message.
		msg = m.Mask(msg)
		out = append(out, store.LogLine{Time: l.Time.UTC(), Level: level, Step: s.Name, Message: store.Printable(msg)})
	}
	return out, nil
}

// setOutput records the output variable a service message set (sv, or
// the parse error perr) and returns the log line that replaces it.
func (r *Runner) setOutput(ctx context.Context, t *store.Task, s *store.Step, sv *variable.SetVariable, perr error) (string, string, error) {
	if perr == nil {
		perr = validation.Text("value", sv.Value)
	}
	if perr != nil {
		return fmt.Sprintf("Ignored a service message: %v", perr), api.LevelWarning, nil
	}
	v := &store.Variable{TaskID: t.ID, Kind: store.VariableOutput, StepID: s.ID, Name: sv.Name,
		Value: sv.Value, Sensitive: sv.Sensitive, UpdatedAt: r.cfg.Clock.Now()}
	if v.Sensitive {
		v.Value = r.cfg.Secrets.Seal(sv.Value, place(v))
	}
	if err := r.store.VariableSet(ctx, v); err != nil {
		return "", "", fmt.Errorf("set output variable %s of task %s: %w", v.Name, t.ID, err)
	}
	if v.Sensitive {
		return fmt.Sprintf("Output variable %s set (sensitive)", v.Name), api.LevelInfo, nil
	}
	return fmt.Sprintf("Output variable %s set", v.Name), api.LevelInfo, nil
}

// TaskVariables returns the input variables of task taskID (task-wide,
// and per step id) and its output variables, naming the step that set
// each with stepName, as the API shows them: sensitive values left out.
func (r *Runner) TaskVariables(ctx context.Context, taskID string, stepName func(id string) string) (task []api.Variable, steps map[string][]api.Variable, outputs []api.OutputVariable, err error) {
	vs, err := r.store.VariableList(ctx, taskID)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list variables of task %s: %w", taskID, err)
	}
	steps = map[string][]api.Variable{}
	for _, v := range vs {
		value := v.Value
		if v.Sensitive {
			value = ""
		}
		switch v.Kind {
		case store.VariableTask:
			task = append(task, api.Variable{Name: v.Name, Value: value, Sensitive: v.Sensitive})
		case store.VariableStep:
			steps[v.StepID] = append(steps[v.StepID], api.Variable{Name: v.Name, Value: value, Sensitive: v.Sensitive})
		case store.VariableOutput:
			outputs = append(outputs, api.OutputVariable{Name: v.Name, Value: value, Sensitive: v.Sensitive,
				Step: stepName(v.StepID), SetAt: v.UpdatedAt})
		}
	}
	return task, steps, outputs, nil
}
