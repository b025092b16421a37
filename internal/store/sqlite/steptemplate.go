package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dynpool/dynpool/internal/store"
)

const stepTemplateColumns = `id, tenant_id, name, version, description, syntax, script_body, parameters,
	library_id, digest, created_at`

func scanStepTemplate(sc scanner) (*store.StepTemplate, error) {
	var (
		t      store.StepTemplate
		params string
		at     int64
	)
	if err := sc.Scan(&t.ID, &t.TenantID, &t.Name, &t.Version, &t.Description, &t.Syntax, &t.ScriptBody,
		&params, &t.LibraryID, &t.Digest, &at); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &t.Parameters); err != nil {
		return nil, fmt.Errorf("decode parameters of step template %s: %w", t.ID, err)
	}
	t.CreatedAt = decTime(at)
	return &t, nil
}

// StepTemplateCreate inserts version t.Version of t.Name, taking the id of
// the tenant's template of that name and counting versions in the same
// transaction.
func (s *Store) StepTemplateCreate(ctx context.Context, t *store.StepTemplate) error {
	params, err := json.Marshal(t.Parameters)
	if err != nil {
		return fmt.Errorf("encode parameters of step template %s: %w", t.Name, err)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var (
			id     string
			newest int
		)
		err := tx.QueryRowContext(ctx, `SELECT id, MAX(version) FROM step_templates
			WHERE tenant_id = ? AND name = ? GROUP BY id`, t.TenantID, t.Name).Scan(&id, &newest)
		switch {
		case err == nil:
			t.ID = id
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if t.Version == 0 {
			t.Version = newest + 1
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO step_templates (`+stepTemplateColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, t.ID, t.TenantID, t.Name, t.Version, t.Description,
			t.Syntax, t.ScriptBody, string(params), t.LibraryID, t.Digest, encTime(t.CreatedAt))
		return err
	})
	if err != nil {
		return fmt.Errorf("create step template %s version %d: %w", t.Name, t.Version, mapErr(err))
	}
	return nil
}

// StepTemplateGet returns version (0: the newest) of template id.
func (s *Store) StepTemplateGet(ctx context.Context, tenantID, id string, version int) (*store.StepTemplate, error) {
	t, err := scanStepTemplate(s.db.QueryRowContext(ctx, `SELECT `+stepTemplateColumns+` FROM step_templates
		WHERE tenant_id = ? AND id = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1`,
		tenantID, id, version, version))
	if err != nil {
		return nil, fmt.Errorf("get step template %s version %d: %w", id, version, mapErr(err))
	}
	return t, nil
}

// StepTemplateList returns the newest version of each template, by name.
func (s *Store) StepTemplateList(ctx context.Context, tenantID string) ([]*store.StepTemplate, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+stepTemplateColumns+` FROM step_templates t
		WHERE tenant_id = ? AND version = (SELECT MAX(version) FROM step_templates
			WHERE tenant_id = t.tenant_id AND name = t.name)
		ORDER BY name`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("list step templates: %w", err)
	}
	defer rows.Close()
	var out []*store.StepTemplate
	for rows.Next() {
		t, err := scanStepTemplate(rows)
		if err != nil {
			return nil, fmt.Errorf("list step templates: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list step templates: %w", err)
	}
	return out, nil
}

// StepTemplateDelete deletes every version of template id.
func (s *Store) StepTemplateDelete(ctx context.Context, tenantID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM step_templates WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err == nil {
		err = checkAffected(res)
	}
	if err != nil {
		return fmt.Errorf("delete step template %s: %w", id, err)
	}
	return nil
}
