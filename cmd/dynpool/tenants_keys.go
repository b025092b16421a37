package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newTenantKeysCmd builds "dynpool tenants keys", the admin commands on a
// tenant's API keys.
func newTenantKeysCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "List, create, rotate and revoke a tenant's API keys (admin token)"}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list TENANT_ID",
			Short: "List a tenant's API keys by id and prefix",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				keys, err := a.client().ListAPIKeys(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printAPIKeys(cmd, a, api.APIKeyList{APIKeys: keys}, keys)
			},
		},
		&cobra.Command{
			Use:   "create TENANT_ID",
			Short: "Add an API key to a tenant and print it (shown once); its other keys keep working",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				k, err := a.client().CreateAPIKey(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printAPIKeys(cmd, a, k, []api.APIKey{*k})
			},
		},
		&cobra.Command{
			Use:   "rotate TENANT_ID",
			Short: "Add an API key to a tenant, print it (shown once), then revoke every other key",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c := a.client()
				k, err := c.CreateAPIKey(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if err := printAPIKeys(cmd, a, k, []api.APIKey{*k}); err != nil {
					return err
				}
				keys, err := c.ListAPIKeys(cmd.Context(), args[0])
				if err != nil {
					return fmt.Errorf("the new key is made; the old keys still work: %w", err)
				}
				for _, old := range keys {
					if old.ID == k.ID {
						continue
					}
					if err := c.RevokeAPIKey(cmd.Context(), args[0], old.ID); err != nil {
						return fmt.Errorf("the new key is made: %w", err)
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "revoked %s %s\n", old.ID, old.Prefix)
				}
				return nil
			},
		},
		&cobra.Command{
			Use:   "revoke TENANT_ID KEY_ID",
			Short: "Revoke one API key of a tenant: it stops working at once",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := a.client().RevokeAPIKey(cmd.Context(), args[0], args[1]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "revoked %s\n", args[1])
				return nil
			},
		},
	)
	return cmd
}

// printAPIKeys prints v as JSON, or keys as a table (with the key itself
// when a new one is among them).
func printAPIKeys(cmd *cobra.Command, a *app, v any, keys []api.APIKey) error {
	w := cmd.OutOrStdout()
	if a.output == outputJSON {
		return printJSON(w, v)
	}
	showKey := len(keys) == 1 && keys[0].Key != ""
	headers := []string{"ID", "PREFIX", "CREATED"}
	if showKey {
		headers = append(headers, "API KEY")
	}
	tb := newTable(w, headers...)
	for _, k := range keys {
		prefix := k.Prefix
		if prefix == "" {
			prefix = "(not kept)"
		}
		cells := []string{k.ID, prefix, timeCell(&k.CreatedAt)}
		if showKey {
			cells = append(cells, k.Key)
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
