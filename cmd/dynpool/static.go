package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// poolKind sets the type of a pool to create: static (no image) with
// --static, else dynamic, which needs --image.
func poolKind(req *api.CreatePoolRequest, static bool) error {
	if static {
		req.Type = api.PoolTypeStatic
		return nil
	}
	if req.Image == "" {
		return errors.New("give --image IMAGE for a dynamic pool, or --static for a pool of machines of your own")
	}
	return nil
}

// newPoolsTokenCmd builds "dynpool pools registration-token POOL", which
// prints a one-time token a machine registers into a static pool with.
func newPoolsTokenCmd(a *app) *cobra.Command {
	var ttl string
	cmd := &cobra.Command{
		Use:   "registration-token POOL",
		Short: "Make a one-time token that registers one machine into a static pool",
		Long: `Make a one-time token that registers one machine into a static pool.

The token is shown once and expires after --ttl (default 1h). On the machine:

  dynpool agent register --server URL --pool POOL --token TOKEN --name NAME
  dynpool agent run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, err := a.client().CreateRegistrationToken(cmd.Context(), args[0], ttl)
			if err != nil {
				return err
			}
			if a.output == outputJSON {
				return printJSON(cmd.OutOrStdout(), tok)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s\n", tok.Token)
			fmt.Fprintf(cmd.ErrOrStderr(), "registration token for pool %s, single use, expires %s; it is not shown again\n",
				tok.PoolID, timeCell(&tok.ExpiresAt))
			return nil
		},
	}
	cmd.Flags().StringVar(&ttl, "ttl", "", "how long the token is valid, a Go duration (default 1h)")
	return cmd
}

// newWorkersDeleteCmd builds "dynpool workers delete ID": a static
// worker leaves its pool and its credential dies.
func newWorkersDeleteCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a static worker (its agent's credential stops working)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.client().DeleteWorker(cmd.Context(), args[0]); err != nil {
				return err
			}
			if a.output == outputJSON {
				return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted worker %s\n", args[0])
			return nil
		},
	}
}
