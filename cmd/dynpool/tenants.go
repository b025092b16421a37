package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newTenantsCmd builds "dynpool tenants", the admin commands on tenants.
func newTenantsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "tenants", Short: "Create, list and edit tenants (admin token)"}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "create NAME",
			Short: "Create a tenant and print its API key (shown once)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				t, err := a.client().CreateTenant(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printTenants(cmd, a, t, []api.Tenant{*t})
			},
		},
		&cobra.Command{
			Use:   "list",
			Short: "List tenants",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ts, err := a.client().ListTenants(cmd.Context())
				if err != nil {
					return err
				}
				return printTenants(cmd, a, ts, ts)
			},
		},
		newTenantsEditCmd(a),
		newTenantKeysCmd(a),
	)
	return cmd
}

// newTenantsEditCmd builds "dynpool tenants edit ID".
func newTenantsEditCmd(a *app) *cobra.Command {
	var idle, lifetime string
	var maxWorkers int
	cmd := &cobra.Command{
		Use:   "edit ID",
		Short: "Change a tenant's idle timeout, max lifetime or worker limit",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req api.UpdateTenantRequest
			f := cmd.Flags()
			if f.Changed("idle-timeout") {
				req.IdleTimeout = &idle
			}
			if f.Changed("max-lifetime") {
				req.MaxLifetime = &lifetime
			}
			if f.Changed("max-workers") {
				req.MaxWorkers = &maxWorkers
			}
			if req == (api.UpdateTenantRequest{}) {
				return fmt.Errorf("nothing to change: give --idle-timeout, --max-lifetime or --max-workers")
			}
			t, err := a.client().UpdateTenant(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return printTenants(cmd, a, t, []api.Tenant{*t})
		},
	}
	cmd.Flags().StringVar(&idle, "idle-timeout", "", `destroy workers idle this long, e.g. "90m"; "" restores the server default`)
	cmd.Flags().StringVar(&lifetime, "max-lifetime", "", `destroy workers this old, e.g. "72h"; "" restores the server default`)
	cmd.Flags().IntVar(&maxWorkers, "max-workers", 0, "most live workers the tenant may hold; 0 means no limit")
	return cmd
}

// printTenants prints v as JSON, or ts as a table.
func printTenants(cmd *cobra.Command, a *app, v any, ts []api.Tenant) error {
	w := cmd.OutOrStdout()
	if a.output == outputJSON {
		return printJSON(w, v)
	}
	showKey := len(ts) == 1 && ts[0].APIKey != ""
	headers := []string{"ID", "NAME", "IDLE TIMEOUT", "MAX LIFETIME", "MAX WORKERS"}
	if showKey {
		headers = append(headers, "API KEY")
	}
	tb := newTable(w, headers...)
	for _, t := range ts {
		limit := "no limit"
		if t.MaxWorkers > 0 {
			limit = strconv.Itoa(t.MaxWorkers)
		}
		cells := []string{t.ID, t.Name, t.IdleTimeout, t.MaxLifetime, limit}
		if showKey {
			cells = append(cells, t.APIKey)
		}
		tb.row(cells...)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	if showKey {
		fmt.Fprintln(cmd.ErrOrStderr(), "The API key is shown only this once: keep it now (the server stores only its hash).")
	}
	return nil
}
