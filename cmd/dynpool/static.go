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

// newWorkersDisableCmd builds "dynpool workers disable ID" (disabled) or
// "dynpool workers enable ID": a disabled static worker gets no step but
// stays registered; its running step ends normally.
func newWorkersDisableCmd(a *app, disabled bool) *cobra.Command {
	use, short := "enable ID", "Enable a disabled static worker: it takes steps again"
	if disabled {
		use, short = "disable ID", "Disable a static worker: it gets no step but stays registered"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wk, err := a.client().SetWorkerDisabled(cmd.Context(), args[0], disabled)
			if err != nil {
				return err
			}
			return printWorkers(cmd, a, []api.Worker{*wk})
		},
	}
}

// newPoolsWorkersCmd builds "dynpool pools workers POOL": the workers of
// one pool, for a static pool its registered machines.
func newPoolsWorkersCmd(a *app) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "workers POOL",
		Short: "List the live workers of a pool (a static pool's machines), --all: destroyed ones too",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.client().ListPoolWorkers(cmd.Context(), args[0], all)
			if err != nil {
				return err
			}
			return printWorkers(cmd, a, ws)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include destroyed workers")
	return cmd
}

// machinePolicyFlags adds --heartbeat-interval and --unavailable-after to
// cmd, for a static pool's machine policy.
func machinePolicyFlags(cmd *cobra.Command, mp *api.MachinePolicy) {
	cmd.Flags().StringVar(&mp.HeartbeatInterval, "heartbeat-interval", "", "static pool: how often its agents heartbeat, a Go duration (default the server's, 5s)")
	cmd.Flags().StringVar(&mp.UnavailableAfter, "unavailable-after", "", "static pool: silence after which a machine is unavailable, a Go duration (default the server's, 30s)")
}

// machinePolicyChanged returns mp when cmd was given either flag of
// machinePolicyFlags, else nil.
func machinePolicyChanged(cmd *cobra.Command, mp *api.MachinePolicy) *api.MachinePolicy {
	if cmd.Flags().Changed("heartbeat-interval") || cmd.Flags().Changed("unavailable-after") {
		return mp
	}
	return nil
}
