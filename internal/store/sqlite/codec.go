package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// scanner is the Scan method of *sql.Row and *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// querier is what *sql.DB and *sql.Tx share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// encTime encodes t as unix nanoseconds; the zero time is 0.
func encTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// decTime decodes unix nanoseconds to a UTC time; 0 is the zero time.
func decTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// encTimePtr encodes t as unix nanoseconds, or NULL when t is nil.
func encTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return encTime(*t)
}

// decTimePtr decodes a nullable unix nanosecond column.
func decTimePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := decTime(n.Int64)
	return &t
}

// encInt encodes v as an integer, or NULL when v is nil.
func encInt(v *int) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}

// decInt decodes a nullable integer column.
func decInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

// inList returns "(?, ?, ...)" with one placeholder per value, and the
// values as arguments.
func inList(values []string) (string, []any) {
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + ")", args
}
