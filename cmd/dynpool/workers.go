package main

import (
	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newWorkersCmd builds "dynpool workers", the view of the tenant's workers.
func newWorkersCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "workers", Short: "Show the workers leased to the tenant"}
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List live workers (--all: destroyed ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := a.client().ListWorkers(cmd.Context(), all)
			if err != nil {
				return err
			}
			return printWorkers(cmd, a, ws)
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include destroyed workers")
	cmd.AddCommand(list, newWorkersDeleteCmd(a), newWorkersDisableCmd(a, true), newWorkersDisableCmd(a, false))
	return cmd
}

// printWorkers prints ws as JSON, or as a table: what `dynpool workers
// list` and `dynpool pools workers` show.
func printWorkers(cmd *cobra.Command, a *app, ws []api.Worker) error {
	w := cmd.OutOrStdout()
	if a.output == outputJSON {
		return printJSON(w, ws)
	}
	tb := newTable(w, "ID", "NAME", "POOL", "PROVIDER", "IMAGE", "BUILD", "STATE", "HEALTH", "CREATED", "LAST USED", "LAST CONTACT", "AGENT", "DESTROY AT", "REASON")
	for _, wk := range ws {
		state := wk.State
		if wk.Disabled {
			state += " (disabled)"
		}
		if wk.HealthCheck != nil && wk.HealthCheck.Status == api.HealthFailed {
			state += " (unhealthy)"
		}
		tb.row(wk.ID, wk.Name, wk.PoolID, wk.Provider, wk.Image, wk.Build, state, healthCell(&wk), timeCell(&wk.CreatedAt),
			timeCell(wk.LastUsedAt), timeCell(wk.LastHeartbeatAt), wk.AgentVersion, timeCell(wk.DestroyAt), wk.DestroyReason)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	printHealthMessages(w, ws)
	return nil
}
