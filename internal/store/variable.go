package store

import (
	"context"
	"errors"
	"time"
)

// ErrTooLarge: ArtifactCommit found the task's artifacts would pass their
// size limit.
var ErrTooLarge = errors.New("size limit exceeded")

// Variable kinds.
const (
	// VariableTask is an input of the whole task.
	VariableTask = "task"
	// VariableStep is an input of one step (Variable.StepID); it wins
	// over a task input of the same name.
	VariableStep = "step"
	// VariableOutput was set by step StepID for the steps after it; one
	// per name and task, the last one set wins.
	VariableOutput = "output"
)

// Variable is one variable of a task. The store keeps Value as given: the
// task runner seals a sensitive value before it gets here, so the store
// never holds one in plain text.
type Variable struct {
	TaskID string
	Kind   string
	// StepID is the step an input belongs to (VariableStep) or the step
	// that set an output (VariableOutput); "" for a task input.
	StepID    string
	Name      string
	Value     string
	Sensitive bool
	UpdatedAt time.Time
}

// Artifact is one file a step stored for its task. Its content is kept in
// the store in numbered chunks (0, 1, ...), each at most a few MiB.
type Artifact struct {
	ID     string
	TaskID string
	// StepID is the step that uploaded it.
	StepID string
	Name   string
	// Size (bytes) and SHA256 (hex) are set when the upload is committed.
	Size      int64
	SHA256    string
	CreatedAt time.Time
}

// ArtifactCommitParams commits upload ID with its final Size and SHA256.
type ArtifactCommitParams struct {
	ID     string
	Size   int64
	SHA256 string
	// MaxTaskBytes, when > 0, bounds the committed artifacts of the task
	// together, counting this one in place of one of the same name.
	MaxTaskBytes int64
}

// ArtifactDeleteParams selects what ArtifactDeleteExpired deletes.
type ArtifactDeleteParams struct {
	// FinishedBefore: artifacts of tasks finished before it.
	FinishedBefore time.Time
	// PendingBefore: uploads begun before it and never committed.
	PendingBefore time.Time
}

// VariableStore keeps task variables. TaskCreate writes Task.Variables
// (inputs) in its transaction; outputs come later through VariableSet.
type VariableStore interface {
	// VariableSet inserts v or replaces the variable of the same task,
	// kind, name and (for VariableStep) step; ErrNotFound when the task
	// does not exist.
	VariableSet(ctx context.Context, v *Variable) error
	// VariableList returns the variables of a task ordered by kind, step
	// and name; none for an unknown task.
	VariableList(ctx context.Context, taskID string) ([]*Variable, error)
}

// ArtifactStore keeps artifacts. An upload begins (ArtifactBegin), adds
// its chunks in order, and is committed or aborted; only committed
// artifacts are listed or read, so a failed upload loses nothing that was
// stored before it.
type ArtifactStore interface {
	// ArtifactBegin records a pending upload a (ID, TaskID, StepID, Name,
	// CreatedAt); ErrNotFound when the task does not exist.
	ArtifactBegin(ctx context.Context, a *Artifact) error
	// ArtifactChunkPut stores chunk index of pending upload id.
	ArtifactChunkPut(ctx context.Context, id string, index int, data []byte) error
	// ArtifactCommit makes pending upload p.ID the task's artifact of its
	// name, replacing any earlier one, in one transaction; ErrTooLarge
	// when that would put the task's artifacts over p.MaxTaskBytes (the
	// upload stays pending, the earlier artifact stays), ErrNotFound when
	// no pending upload has that id.
	ArtifactCommit(ctx context.Context, p *ArtifactCommitParams) (*Artifact, error)
	// ArtifactAbort deletes pending upload id and its chunks; an unknown
	// or committed id is left alone (nil).
	ArtifactAbort(ctx context.Context, id string) error
	// ArtifactList returns the committed artifacts of a task by name.
	ArtifactList(ctx context.Context, taskID string) ([]*Artifact, error)
	// ArtifactGet returns the committed artifact name of a task, or
	// ErrNotFound.
	ArtifactGet(ctx context.Context, taskID, name string) (*Artifact, error)
	// ArtifactChunk returns chunk index of artifact id; ErrNotFound past
	// the last chunk.
	ArtifactChunk(ctx context.Context, id string, index int) ([]byte, error)
	// ArtifactDeleteExpired deletes what p selects and returns how many
	// artifacts (committed or pending) it deleted.
	ArtifactDeleteExpired(ctx context.Context, p *ArtifactDeleteParams) (int, error)
}
