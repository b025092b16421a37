package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dynpool/dynpool/internal/store"
)

// AuditAppend implements store.AuditStore.
func (s *Store) AuditAppend(ctx context.Context, e *store.AuditEntry) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO audit (time, tenant_id, actor, action, target, detail, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq`,
		e.Time, e.TenantID, e.Actor, e.Action, e.Target, e.Detail, e.Source).Scan(&e.Seq)
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
		args = append(args, p.TenantID)
		query += ` WHERE tenant_id = $1`
	}
	args = append(args, p.Limit)
	rows, err := s.pool.Query(ctx, query+fmt.Sprintf(` ORDER BY seq DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*store.AuditEntry, error) {
		var e store.AuditEntry
		err := row.Scan(&e.Seq, &e.Time, &e.TenantID, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Source)
		e.Time = e.Time.UTC()
		return &e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}
