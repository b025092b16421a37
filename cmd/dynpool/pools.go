package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newPoolsCmd builds "dynpool pools", the commands on the tenant's worker
// pools.
func newPoolsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "pools", Short: "List, create, edit and delete worker pools"}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List worker pools, with deprecation warnings",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ps, err := a.client().ListPools(cmd.Context())
				if err != nil {
					return err
				}
				return printPools(cmd, a, ps, ps)
			},
		},
		newPoolsCreateCmd(a),
		newPoolsEditCmd(a),
		newPoolsTokenCmd(a),
		newPoolsWorkersCmd(a),
		&cobra.Command{
			Use:   "delete ID",
			Short: "Delete a worker pool",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := a.client().DeletePool(cmd.Context(), args[0]); err != nil {
					return err
				}
				if a.output == outputJSON {
					return printJSON(cmd.OutOrStdout(), map[string]string{"deleted": args[0]})
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted pool %s\n", args[0])
				return nil
			},
		},
	)
	return cmd
}

// newPoolsCreateCmd builds "dynpool pools create NAME --image IMG".
func newPoolsCreateCmd(a *app) *cobra.Command {
	var req api.CreatePoolRequest
	var static bool
	var policy api.MachinePolicy
	var health healthCheckFlagValues
	cmd := &cobra.Command{
		Use:   "create NAME (--image IMAGE | --static)",
		Short: "Create a dynamic worker pool, or a static one that machines register into",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			if err := poolKind(&req, static); err != nil {
				return err
			}
			req.MachinePolicy = machinePolicyChanged(cmd, &policy)
			hc, err := healthCheckChanged(cmd, &health)
			if err != nil {
				return err
			}
			req.HealthCheck = hc
			p, err := a.client().CreatePool(cmd.Context(), req)
			if err != nil {
				return err
			}
			return printPools(cmd, a, p, []api.Pool{*p})
		},
	}
	cmd.Flags().StringVar(&req.Image, "image", "", "image id or alias id (see: dynpool images list)")
	cmd.Flags().BoolVar(&req.IsDefault, "default", false, "make it the tenant's default pool")
	cmd.Flags().IntVar(&req.MaxWorkers, "max-workers", 0, "most live workers the pool may hold (0: no limit but the tenant's)")
	cmd.Flags().IntVar(&req.Capacity, "capacity", 0, capacityUsage+" (default 1)")
	cmd.Flags().BoolVar(&static, "static", false, "a static pool: machines of your own register into it (see: dynpool pools registration-token)")
	machinePolicyFlags(cmd, &policy)
	healthCheckFlags(cmd, &health, false)
	cmd.MarkFlagsMutuallyExclusive("image", "static")
	cmd.MarkFlagsOneRequired("image", "static")
	return cmd
}

// newPoolsEditCmd builds "dynpool pools edit ID".
func newPoolsEditCmd(a *app) *cobra.Command {
	var name, image string
	var isDefault bool
	var maxWorkers, capacity int
	var policy api.MachinePolicy
	var health healthCheckFlagValues
	cmd := &cobra.Command{
		Use:   "edit ID",
		Short: "Rename a pool, change its image, worker limit or capacity, or make it the default",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req api.UpdatePoolRequest
			f := cmd.Flags()
			if f.Changed("name") {
				req.Name = &name
			}
			if f.Changed("image") {
				req.Image = &image
			}
			if f.Changed("default") {
				req.IsDefault = &isDefault
			}
			if f.Changed("max-workers") {
				req.MaxWorkers = &maxWorkers
			}
			if f.Changed("capacity") {
				req.Capacity = &capacity
			}
			req.MachinePolicy = machinePolicyChanged(cmd, &policy)
			c := a.client()
			hc, err := healthCheckChanged(cmd, &health)
			if err != nil {
				return err
			}
			req.HealthCheck = hc
			if req == (api.UpdatePoolRequest{}) {
				return fmt.Errorf("nothing to change: give --name, --image, --max-workers, --capacity, --default, --heartbeat-interval, --unavailable-after or a --health-check-* flag")
			}
			p, err := c.UpdatePool(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return printPools(cmd, a, p, []api.Pool{*p})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new pool name")
	cmd.Flags().StringVar(&image, "image", "", "new image id or alias id")
	cmd.Flags().BoolVar(&isDefault, "default", false, "make it the tenant's default pool")
	cmd.Flags().IntVar(&maxWorkers, "max-workers", 0, "most live workers the pool may hold (0: no limit but the tenant's)")
	cmd.Flags().IntVar(&capacity, "capacity", 1, capacityUsage)
	machinePolicyFlags(cmd, &policy)
	healthCheckFlags(cmd, &health, true)
	return cmd
}

// capacityUsage explains --capacity.
const capacityUsage = "how many steps one worker runs at once (1 to 32; steps of one worker share its machine)"

// printPools prints v as JSON, or ps as a table followed by each pool's
// warnings.
func printPools(cmd *cobra.Command, a *app, v any, ps []api.Pool) error {
	w := cmd.OutOrStdout()
	if a.output == outputJSON {
		return printJSON(w, v)
	}
	tb := newTable(w, "ID", "NAME", "TYPE", "IMAGE", "RESOLVED", "DEFAULT", "CAPACITY", "STATUS")
	for _, p := range ps {
		status := "ok"
		switch {
		case p.Deprecated:
			status = "Deprecated"
		case p.ImageStatus == api.ImageStatusDecommissioned:
			status = "Decommissioned"
		case p.ImageStatus == api.ImageStatusPreview:
			status = "Preview"
		}
		tb.row(p.ID, p.Name, p.Type, p.Image, p.ResolvedImage, yesNo(p.IsDefault), strconv.Itoa(p.Capacity), status)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	for _, p := range ps {
		for _, warn := range p.Warnings {
			fmt.Fprintf(w, "warning: pool %s: %s\n", p.Name, warn)
		}
		if mp := p.MachinePolicy; mp != nil {
			fmt.Fprintf(w, "pool %s: agents heartbeat every %s; a machine silent for %s is unavailable\n", p.Name, mp.HeartbeatInterval, mp.UnavailableAfter)
			if hc := mp.HealthCheck; hc != nil {
				fmt.Fprintf(w, "pool %s: health check (%s) every %s, timeout %s; a machine whose check fails gets no step\n", p.Name, hc.Syntax, hc.Interval, hc.Timeout)
			}
		}
	}
	return nil
}
