package main

import (
	"github.com/spf13/cobra"
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
			w := cmd.OutOrStdout()
			if a.output == outputJSON {
				return printJSON(w, ws)
			}
			tb := newTable(w, "ID", "NAME", "POOL", "PROVIDER", "IMAGE", "BUILD", "STATE", "CREATED", "LAST USED", "LAST CONTACT", "DESTROY AT", "REASON")
			for _, wk := range ws {
				tb.row(wk.ID, wk.Name, wk.PoolID, wk.Provider, wk.Image, wk.Build, wk.State, timeCell(&wk.CreatedAt),
					timeCell(wk.LastUsedAt), timeCell(wk.LastHeartbeatAt), timeCell(wk.DestroyAt), wk.DestroyReason)
			}
			return tb.flush()
		},
	}
	list.Flags().BoolVar(&all, "all", false, "include destroyed workers")
	cmd.AddCommand(list, newWorkersDeleteCmd(a))
	return cmd
}
