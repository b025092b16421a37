package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newTasksCmd builds "dynpool tasks", the commands on one task.
func newTasksCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "tasks", Short: "List, show, follow and cancel tasks"}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the newest tasks",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ts, err := a.client().ListTasks(cmd.Context())
				if err != nil {
					return err
				}
				return printTaskList(cmd.OutOrStdout(), a, ts)
			},
		},
		&cobra.Command{
			Use:   "show ID",
			Short: "Show a task and its steps",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				t, err := a.client().GetTask(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printTask(cmd.OutOrStdout(), a, t)
			},
		},
		newTasksLogCmd(a),
		newTasksArtifactsCmd(a),
		newTasksArtifactCmd(a),
		&cobra.Command{
			Use:   "cancel ID",
			Short: "Cancel a task",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				t, err := a.client().CancelTask(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printTask(cmd.OutOrStdout(), a, t)
			},
		},
	)
	return cmd
}

// newTasksLogCmd builds "dynpool tasks log ID [--follow]".
func newTasksLogCmd(a *app) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "log ID",
		Short: "Print a task log (--follow: until the task ends, exiting as run does)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			c := a.client()
			if !follow {
				lines, err := c.TaskLog(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.output == outputJSON {
					return printJSON(w, lines)
				}
				for _, l := range lines {
					fmt.Fprintln(w, formatLogLine(l))
				}
				return nil
			}
			t, err := c.FollowLog(cmd.Context(), args[0], func(l api.LogLine) {
				_ = printLogLine(w, a.output, l)
			})
			if err != nil {
				return err
			}
			return taskExit(cmd.ErrOrStderr(), t)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "stream new lines until the task ends")
	return cmd
}

// printTask prints t as JSON, or as a header line and a table of steps.
func printTask(w io.Writer, a *app, t *api.Task) error {
	if a.output == outputJSON {
		return printJSON(w, t)
	}
	fmt.Fprintf(w, "task %s %q: %s\n", t.ID, t.Name, t.State)
	if t.Error != "" {
		fmt.Fprintf(w, "error: %s\n", t.Error)
	}
	tb := newTable(w, "STEP", "POOL", "SYNTAX", "STATE", "WORKER", "EXIT", "ERROR")
	for _, s := range t.Steps {
		exit := ""
		if s.ExitCode != nil {
			exit = strconv.Itoa(*s.ExitCode)
		}
		tb.row(s.Name, s.PoolID, s.Syntax, s.State, s.WorkerID, exit, s.Error)
	}
	return tb.flush()
}

// printTaskList prints ts as JSON, or as a table newest first.
func printTaskList(w io.Writer, a *app, ts []api.Task) error {
	if a.output == outputJSON {
		return printJSON(w, ts)
	}
	tb := newTable(w, "ID", "NAME", "STATE", "STEPS", "CREATED")
	for _, t := range ts {
		tb.row(t.ID, t.Name, t.State, strconv.Itoa(len(t.Steps)), t.CreatedAt.UTC().Format(time.DateTime))
	}
	return tb.flush()
}
