package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Row is one line of the table. Key is stable (tests and --only use it);
// the rest is for people.
type Row struct {
	// Key names the row, e.g. "warm-start" or "throughput/sqlite/10000".
	Key string `json:"key"`
	// Name says what is measured, e.g. "warm step start (process)".
	Name string `json:"name"`
	// Value is the figure: "p50 / p99" durations, a rate or a size; empty
	// when the row could not be measured (Note says why).
	Value string `json:"value"`
	// Baseline is the figure it is compared with, if any, and Ratio
	// Value's p50 over Baseline's.
	Baseline string `json:"baseline,omitempty"`
	Ratio    string `json:"ratio,omitempty"`
	// Note qualifies the figure, or says why there is none.
	Note string `json:"note,omitempty"`
}

// Report is the outcome of [Run].
type Report struct {
	// Machine describes where it ran: OS, architecture, CPUs, Go version.
	Machine string `json:"machine"`
	// Quick is true for a run with the --quick sizes.
	Quick   bool      `json:"quick"`
	Started time.Time `json:"started"`
	// Took is the run's wall time as a Go duration string.
	Took string `json:"took"`
	Rows []Row  `json:"rows"`
}

// WriteTable writes r as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "dynpool bench on %s, %s%s, took %s\n\n", r.Machine, r.Started.Format(time.DateTime),
		map[bool]string{true: " (quick)", false: ""}[r.Quick], r.Took)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASURE\tVALUE (p50 / p99)\tBASELINE\tRATIO\tNOTE")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", row.Name, dash(row.Value), dash(row.Baseline), dash(row.Ratio), row.Note)
	}
	return tw.Flush()
}

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
