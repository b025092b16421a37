package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

const artifactColumns = `id, task_id, step_id, name, size, sha256, created_at`

func scanArtifact(r pgx.Row) (*store.Artifact, error) {
	var a store.Artifact
	if err := r.Scan(&a.ID, &a.TaskID, &a.StepID, &a.Name, &a.Size, &a.SHA256, &a.CreatedAt); err != nil {
		return nil, err
	}
	a.CreatedAt = utc(a.CreatedAt)
	return &a, nil
}

// ArtifactBegin records pending upload a; ErrNotFound for an unknown task.
func (s *Store) ArtifactBegin(ctx context.Context, a *store.Artifact) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO artifacts (id, task_id, step_id, name, created_at)
		VALUES ($1, $2, $3, $4, $5)`, a.ID, a.TaskID, a.StepID, a.Name, a.CreatedAt)
	if err != nil {
		return fmt.Errorf("begin artifact %s of task %s: %w", a.Name, a.TaskID, mapErr(err))
	}
	return nil
}

// ArtifactChunkPut stores chunk index of pending upload id; ErrNotFound
// when there is no such pending upload, ErrConflict when the chunk exists.
func (s *Store) ArtifactChunkPut(ctx context.Context, id string, index int, data []byte) error {
	if data == nil {
		data = []byte{}
	}
	tag, err := s.pool.Exec(ctx, `INSERT INTO artifact_chunks (artifact_id, idx, data)
		SELECT id, $2, $3 FROM artifacts WHERE id = $1 AND NOT committed`, id, index, data)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store chunk %d of artifact %s: %w", index, id, mapErr(err))
	}
	return nil
}

// ArtifactCommit makes pending upload p.ID its task's artifact of its
// name. It locks the task row first, so concurrent commits of one task,
// on any replica, check the size limit one after the other.
func (s *Store) ArtifactCommit(ctx context.Context, p *store.ArtifactCommitParams) (*store.Artifact, error) {
	var a *store.Artifact
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		a, err = scanArtifact(tx.QueryRow(ctx, `SELECT `+artifactColumns+` FROM artifacts
			WHERE id = $1 AND NOT committed`, p.ID))
		if err != nil {
			return err
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tasks WHERE id = $1 FOR NO KEY UPDATE`, a.TaskID).Scan(&one); err != nil {
			return err
		}
		if p.MaxTaskBytes > 0 {
			var others int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(size), 0) FROM artifacts
				WHERE task_id = $1 AND committed AND name <> $2`, a.TaskID, a.Name).Scan(&others); err != nil {
				return err
			}
			if others+p.Size > p.MaxTaskBytes {
				return fmt.Errorf("%w: the task's artifacts would total %d bytes, more than %d",
					store.ErrTooLarge, others+p.Size, p.MaxTaskBytes)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM artifacts WHERE task_id = $1 AND name = $2 AND committed`,
			a.TaskID, a.Name); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE artifacts SET committed = true, size = $2, sha256 = $3 WHERE id = $1`,
			p.ID, p.Size, p.SHA256)
		a.Size, a.SHA256 = p.Size, p.SHA256
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("commit artifact %s: %w", p.ID, mapErr(err))
	}
	return a, nil
}

// ArtifactAbort deletes pending upload id and its chunks.
func (s *Store) ArtifactAbort(ctx context.Context, id string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM artifacts WHERE id = $1 AND NOT committed`, id); err != nil {
		return fmt.Errorf("abort artifact %s: %w", id, err)
	}
	return nil
}

// ArtifactList returns the committed artifacts of taskID by name.
func (s *Store) ArtifactList(ctx context.Context, taskID string) ([]*store.Artifact, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+artifactColumns+` FROM artifacts
		WHERE task_id = $1 AND committed ORDER BY name`, taskID)
	out, err := collect(rows, err, scanArtifact)
	if err != nil {
		return nil, fmt.Errorf("list artifacts of task %s: %w", taskID, err)
	}
	return out, nil
}

// ArtifactGet returns the committed artifact name of taskID.
func (s *Store) ArtifactGet(ctx context.Context, taskID, name string) (*store.Artifact, error) {
	a, err := scanArtifact(s.pool.QueryRow(ctx, `SELECT `+artifactColumns+` FROM artifacts
		WHERE task_id = $1 AND name = $2 AND committed`, taskID, name))
	if err != nil {
		return nil, fmt.Errorf("get artifact %s of task %s: %w", name, taskID, mapErr(err))
	}
	return a, nil
}

// ArtifactChunk returns chunk index of artifact id.
func (s *Store) ArtifactChunk(ctx context.Context, id string, index int) ([]byte, error) {
	var data []byte
	err := s.pool.QueryRow(ctx, `SELECT data FROM artifact_chunks WHERE artifact_id = $1 AND idx = $2`, id, index).Scan(&data)
	if err != nil {
		return nil, fmt.Errorf("read chunk %d of artifact %s: %w", index, id, mapErr(err))
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// ArtifactDeleteExpired deletes the artifacts of tasks finished before
// p.FinishedBefore and uploads pending since before p.PendingBefore.
func (s *Store) ArtifactDeleteExpired(ctx context.Context, p *store.ArtifactDeleteParams) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM artifacts
		WHERE (NOT committed AND created_at < $1)
		   OR task_id IN (SELECT id FROM tasks WHERE finished_at IS NOT NULL AND finished_at < $2)`,
		p.PendingBefore, p.FinishedBefore)
	if err != nil {
		return 0, fmt.Errorf("delete expired artifacts: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
