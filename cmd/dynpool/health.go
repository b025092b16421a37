package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// healthCheckFlagValues holds the --health-check-* flags of `pools
// create` and `pools edit`.
type healthCheckFlagValues struct {
	file, script, syntax, interval, timeout string
	none                                    bool
}

// healthCheckFlags adds the static pool's health-check flags to cmd; edit
// adds --no-health-check too.
func healthCheckFlags(cmd *cobra.Command, v *healthCheckFlagValues, edit bool) {
	f := cmd.Flags()
	f.StringVar(&v.file, "health-check-file", "", "static pool: file holding the health-check script its agents run while idle (- for stdin); exit 0 healthy, 2 warning, else failed")
	f.StringVar(&v.script, "health-check-script", "", "static pool: the health-check script itself, in place of --health-check-file")
	f.StringVar(&v.syntax, "health-check-syntax", "", "static pool: the health-check script's syntax: bash, sh, python or pwsh (default bash)")
	f.StringVar(&v.interval, "health-check-interval", "", "static pool: how often the health check runs, a Go duration from 10s to 24h (default 5m)")
	f.StringVar(&v.timeout, "health-check-timeout", "", "static pool: how long one health check may run, a Go duration from 1s to 10m, at most the interval (default 1m)")
	cmd.MarkFlagsMutuallyExclusive("health-check-file", "health-check-script")
	if edit {
		f.BoolVar(&v.none, "no-health-check", false, "static pool: remove the health check (its machines serve again whatever their last check said)")
		for _, other := range []string{"health-check-file", "health-check-script", "health-check-syntax", "health-check-interval", "health-check-timeout"} {
			cmd.MarkFlagsMutuallyExclusive("no-health-check", other)
		}
	}
}

// healthCheckChanged returns the health check the flags of cmd ask for,
// nil when none was given: only the fields whose flags were given, the
// server keeps the pool's current value of the others (an edit of the
// script keeps the syntax, interval and timeout).
func healthCheckChanged(cmd *cobra.Command, v *healthCheckFlagValues) (*api.HealthCheck, error) {
	f := cmd.Flags()
	if v.none {
		return &api.HealthCheck{}, nil
	}
	if !f.Changed("health-check-file") && !f.Changed("health-check-script") && !f.Changed("health-check-syntax") &&
		!f.Changed("health-check-interval") && !f.Changed("health-check-timeout") {
		return nil, nil
	}
	hc := &api.HealthCheck{Syntax: v.syntax, Script: v.script, Interval: v.interval, Timeout: v.timeout}
	if f.Changed("health-check-file") {
		script, err := readScriptFile(cmd.InOrStdin(), v.file)
		if err != nil {
			return nil, fmt.Errorf("read the health-check script: %w", err)
		}
		hc.Script = script
	}
	return hc, nil
}

// healthCell is a worker's health-check status for a table, "" before
// its first check.
func healthCell(wk *api.Worker) string {
	if wk.HealthCheck == nil {
		return ""
	}
	return wk.HealthCheck.Status
}

// printHealthMessages prints, below the worker table, the message of each
// worker whose last health check warned or failed.
func printHealthMessages(w io.Writer, ws []api.Worker) {
	for _, wk := range ws {
		h := wk.HealthCheck
		if h == nil || h.Status == api.HealthHealthy {
			continue
		}
		fmt.Fprintf(w, "health check of worker %s %s at %s", wk.ID, h.Status, timeCell(h.CheckedAt))
		if msg := strings.TrimSpace(h.Message); msg != "" {
			fmt.Fprintf(w, ":\n  %s", strings.ReplaceAll(msg, "\n", "\n  "))
		}
		fmt.Fprintln(w)
	}
}
