package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/dynpool/dynpool/internal/store"
)

const artifactColumns = `id, task_id, step_id, name, size, sha256, created_at`

func scanArtifact(sc scanner) (*store.Artifact, error) {
	var (
		a  store.Artifact
		at int64
	)
	if err := sc.Scan(&a.ID, &a.TaskID, &a.StepID, &a.Name, &a.Size, &a.SHA256, &at); err != nil {
		return nil, err
	}
	a.CreatedAt = decTime(at)
	return &a, nil
}

// ArtifactBegin records pending upload a; ErrNotFound for an unknown task.
func (s *Store) ArtifactBegin(ctx context.Context, a *store.Artifact) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO artifacts (id, task_id, step_id, name, created_at)
		VALUES (?, ?, ?, ?, ?)`, a.ID, a.TaskID, a.StepID, a.Name, encTime(a.CreatedAt))
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
	res, err := s.db.ExecContext(ctx, `INSERT INTO artifact_chunks (artifact_id, idx, data)
		SELECT id, ?, ? FROM artifacts WHERE id = ? AND committed = 0`, index, data, id)
	if err == nil {
		err = checkAffected(res) // no pending upload of that id
	}
	if err != nil {
		return fmt.Errorf("store chunk %d of artifact %s: %w", index, id, mapErr(err))
	}
	return nil
}

// ArtifactCommit makes pending upload p.ID its task's artifact of its name.
func (s *Store) ArtifactCommit(ctx context.Context, p *store.ArtifactCommitParams) (*store.Artifact, error) {
	var a *store.Artifact
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = scanArtifact(tx.QueryRowContext(ctx, `SELECT `+artifactColumns+` FROM artifacts
			WHERE id = ? AND committed = 0`, p.ID))
		if err != nil {
			return err
		}
		if p.MaxTaskBytes > 0 {
			var others int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(size), 0) FROM artifacts
				WHERE task_id = ? AND committed = 1 AND name <> ?`, a.TaskID, a.Name).Scan(&others); err != nil {
				return err
			}
			if others+p.Size > p.MaxTaskBytes {
				return fmt.Errorf("%w: the task's artifacts would total %d bytes, more than %d",
					store.ErrTooLarge, others+p.Size, p.MaxTaskBytes)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM artifacts WHERE task_id = ? AND name = ? AND committed = 1`,
			a.TaskID, a.Name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE artifacts SET committed = 1, size = ?, sha256 = ? WHERE id = ?`,
			p.Size, p.SHA256, p.ID)
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
	if _, err := s.db.ExecContext(ctx, `DELETE FROM artifacts WHERE id = ? AND committed = 0`, id); err != nil {
		return fmt.Errorf("abort artifact %s: %w", id, err)
	}
	return nil
}

// ArtifactList returns the committed artifacts of taskID by name.
func (s *Store) ArtifactList(ctx context.Context, taskID string) ([]*store.Artifact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+artifactColumns+` FROM artifacts
		WHERE task_id = ? AND committed = 1 ORDER BY name`, taskID)
	if err != nil {
		return nil, fmt.Errorf("list artifacts of task %s: %w", taskID, err)
	}
	defer rows.Close()
	var out []*store.Artifact
	for rows.Next() {
		a, err := scanArtifact(rows)
		if err != nil {
			return nil, fmt.Errorf("list artifacts of task %s: %w", taskID, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list artifacts of task %s: %w", taskID, err)
	}
	return out, nil
}

// ArtifactGet returns the committed artifact name of taskID.
func (s *Store) ArtifactGet(ctx context.Context, taskID, name string) (*store.Artifact, error) {
	a, err := scanArtifact(s.db.QueryRowContext(ctx, `SELECT `+artifactColumns+` FROM artifacts
		WHERE task_id = ? AND name = ? AND committed = 1`, taskID, name))
	if err != nil {
		return nil, fmt.Errorf("get artifact %s of task %s: %w", name, taskID, mapErr(err))
	}
	return a, nil
}

// ArtifactChunk returns chunk index of artifact id.
func (s *Store) ArtifactChunk(ctx context.Context, id string, index int) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM artifact_chunks WHERE artifact_id = ? AND idx = ?`, id, index).Scan(&data)
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
	res, err := s.db.ExecContext(ctx, `DELETE FROM artifacts
		WHERE (committed = 0 AND created_at < ?)
		   OR task_id IN (SELECT id FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ?)`,
		encTime(p.PendingBefore), encTime(p.FinishedBefore))
	if err != nil {
		return 0, fmt.Errorf("delete expired artifacts: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired artifacts: %w", err)
	}
	return int(n), nil
}
