package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynpool/dynpool/internal/store"
)

// AuditAppend implements store.AuditStore.
func (s *Store) AuditAppend(ctx context.Context, e *store.AuditEntry) error {
	err := s.db.QueryRowContext(ctx, `INSERT INTO audit (time, tenant_id, actor, action, target, detail, source)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		encTime(e.Time), e.TenantID, e.Actor, e.Action, e.Target, e.Detail, e.Source).Scan(&e.Seq)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AuditList implements store.AuditStore.
func (s *Store) AuditList(ctx context.Context, p *store.AuditListParams) ([]*store.AuditEntry, error) {
	if p.Limit < 1 {
		return nil, errors.New("list audit entries: a limit of 1 or more is required")
	}
	query := `SELECT seq, time, tenant_id, actor, action, target, detail, source FROM audit`
	args := []any{}
	if p.TenantID != "" {
		query += ` WHERE tenant_id = ?`
		args = append(args, p.TenantID)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY seq DESC LIMIT ?`, append(args, p.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	defer rows.Close()
	var out []*store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &at, &e.TenantID, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Source); err != nil {
			return nil, fmt.Errorf("list audit entries: %w", err)
		}
		e.Time = decTime(at)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}
