package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

const stepTemplateColumns = `id, tenant_id, name, version, description, syntax, script_body, parameters,
	library_id, digest, created_at`

func scanStepTemplate(r pgx.Row) (*store.StepTemplate, error) {
	var (
		t      store.StepTemplate
		params string
	)
	if err := r.Scan(&t.ID, &t.TenantID, &t.Name, &t.Version, &t.Description, &t.Syntax, &t.ScriptBody,
		&params, &t.LibraryID, &t.Digest, &t.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(params), &t.Parameters); err != nil {
		return nil, fmt.Errorf("decode parameters of step template %s: %w", t.ID, err)
	}
	t.CreatedAt = utc(t.CreatedAt)
	return &t, nil
}

// StepTemplateCreate inserts version t.Version of t.Name. It locks the
// tenant row first, so concurrent imports of one tenant, on any replica,
// agree on the template's id and count versions one after the other.
func (s *Store) StepTemplateCreate(ctx context.Context, t *store.StepTemplate) error {
	params, err := json.Marshal(t.Parameters)
	if err != nil {
		return fmt.Errorf("encode parameters of step template %s: %w", t.Name, err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE`, t.TenantID).Scan(&one); err != nil {
			return err
		}
		var (
			id     string
			newest int
		)
		err := tx.QueryRow(ctx, `SELECT id, MAX(version) FROM step_templates
			WHERE tenant_id = $1 AND name = $2 GROUP BY id`, t.TenantID, t.Name).Scan(&id, &newest)
		switch {
		case err == nil:
			t.ID = id
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if t.Version == 0 {
			t.Version = newest + 1
		}
		_, err = tx.Exec(ctx, `INSERT INTO step_templates (`+stepTemplateColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, t.ID, t.TenantID, t.Name, t.Version,
			t.Description, t.Syntax, t.ScriptBody, string(params), t.LibraryID, t.Digest, t.CreatedAt)
		return err
	})
	if err != nil {
		return fmt.Errorf("create step template %s version %d: %w", t.Name, t.Version, mapErr(err))
	}
	return nil
}

// StepTemplateGet returns version (0: the newest) of template id.
func (s *Store) StepTemplateGet(ctx context.Context, tenantID, id string, version int) (*store.StepTemplate, error) {
	t, err := scanStepTemplate(s.pool.QueryRow(ctx, `SELECT `+stepTemplateColumns+` FROM step_templates
		WHERE tenant_id = $1 AND id = $2 AND ($3 = 0 OR version = $3) ORDER BY version DESC LIMIT 1`,
		tenantID, id, version))
	if err != nil {
		return nil, fmt.Errorf("get step template %s version %d: %w", id, version, mapErr(err))
	}
	return t, nil
}

// StepTemplateList returns the newest version of each template, by name.
func (s *Store) StepTemplateList(ctx context.Context, tenantID string) ([]*store.StepTemplate, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (name) `+stepTemplateColumns+` FROM step_templates
		WHERE tenant_id = $1 ORDER BY name, version DESC`, tenantID)
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM step_templates WHERE tenant_id = $1 AND id = $2`, tenantID, id)
	if err == nil {
		err = checkAffected(tag)
	}
	if err != nil {
		return fmt.Errorf("delete step template %s: %w", id, err)
	}
	return nil
}
