package main

import (
	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/internal/agent"
)

func newAgentCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run the worker agent (started by a provider on each worker)",
		Long: `Run the worker agent: register with the server, heartbeat, take steps and run them.

A provider starts it on every worker it creates, with DYNPOOL_SERVER,
DYNPOOL_AGENT_TOKEN (a one-time registration token) and DYNPOOL_AGENT_WORKDIR
in its environment. It exits when the server says its worker is gone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return agent.RunFromEnv(cmd.Context())
		},
	}
	cmd.AddCommand(newAgentArtifactCmd(), newAgentRegisterCmd(a), newAgentRunCmd())
	return cmd
}
