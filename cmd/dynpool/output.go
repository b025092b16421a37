package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dynpool/dynpool/api"
)

// printJSON writes v to w as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("print json: %w", err)
	}
	return nil
}

// table writes tab-separated rows as aligned columns.
type table struct{ tw *tabwriter.Writer }

// newTable starts a table on w with the given column headers.
func newTable(w io.Writer, headers ...string) *table {
	t := newFields(w)
	t.row(headers...)
	return t
}

// newFields starts a table without headers on w, for "KEY: value" lines.
func newFields(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

// row adds one row; an empty cell prints as "-".
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// flush writes the table out.
func (t *table) flush() error {
	if err := t.tw.Flush(); err != nil {
		return fmt.Errorf("print table: %w", err)
	}
	return nil
}

// timeCell formats an optional time for a table cell, in local time to
// the second; nil is empty.
func timeCell(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.Local().Format(time.DateTime)
}

// yesNo formats a flag for a table cell.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// formatLogLine renders l as "HH:MM:SS LEVEL [step] message", in local
// time; the [step] part is left out for task-level lines.
func formatLogLine(l api.LogLine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-7s ", l.Time.Local().Format(time.TimeOnly), strings.ToUpper(l.Level))
	if l.Step != "" {
		fmt.Fprintf(&b, "[%s] ", l.Step)
	}
	b.WriteString(l.Message)
	return b.String()
}

// printLogLine writes l to w in the chosen output format: a formatted line,
// or one compact JSON object per line.
func printLogLine(w io.Writer, output string, l api.LogLine) error {
	if output == outputJSON {
		b, err := json.Marshal(l)
		if err != nil {
			return fmt.Errorf("print log line: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintln(w, formatLogLine(l))
	return err
}
