package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// credentialFlag adds --credential-file to cmd, defaulting to
// agent.DefaultCredentialPath.
func credentialFlag(cmd *cobra.Command, path *string) {
	cmd.Flags().StringVar(path, "credential-file", "",
		"where the worker's credential is kept (default $XDG_CONFIG_HOME/dynpool/agent.json or ~/.config/dynpool/agent.json)")
}

func credentialPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	return agent.DefaultCredentialPath()
}

// newAgentRegisterCmd builds "dynpool agent register": a machine of the
// tenant's own joins a static pool.
func newAgentRegisterCmd(a *app) *cobra.Command {
	var p agent.RegisterStaticParams
	var path string
	cmd := &cobra.Command{
		Use:   "register --server URL --pool POOL --token TOKEN --name NAME",
		Short: "Register this machine into a static pool and keep its credential",
		Long: `Register this machine into a static pool with a one-time registration token
(dynpool pools registration-token POOL), and keep the worker's credential in a
file readable by its owner only. Then serve steps with: dynpool agent run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := credentialPath(path)
			if err != nil {
				return err
			}
			// The global --server and --server-fingerprint say where.
			p.ServerURL, p.HTTPClient = a.server, tlspin.Client(a.fingerprint)
			c, err := agent.RegisterStatic(cmd.Context(), p)
			if err != nil {
				return err
			}
			c.ServerFingerprint = a.fingerprint // agent run pins it too
			if err := agent.SaveCredential(path, c); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registered as worker %s; credential saved to %s\n", c.WorkerID, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&p.Pool, "pool", "", "the static pool's name or id")
	cmd.Flags().StringVar(&p.Token, "token", "", "the pool's one-time registration token")
	cmd.Flags().StringVar(&p.Name, "name", hostname(), "this machine's name in the worker list")
	credentialFlag(cmd, &path)
	for _, f := range []string{"pool", "token"} {
		_ = cmd.MarkFlagRequired(f) // the flags exist: cannot fail
	}
	return cmd
}

// newAgentRunCmd builds "dynpool agent run": serve steps as the static
// worker registered earlier.
func newAgentRunCmd() *cobra.Command {
	var path, workDir string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Serve steps as the static worker this machine registered as",
		Long: `Serve steps as the static worker this machine registered as (dynpool agent
register): heartbeat, take steps and run them, until stopped or until the
worker is deleted. It needs outbound HTTP(S) to the server only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := credentialPath(path)
			if err != nil {
				return err
			}
			if workDir == "" {
				workDir = filepath.Join(os.TempDir(), "dynpool-agent")
			}
			return agent.RunWithCredential(cmd.Context(), path, workDir, nil)
		},
	}
	credentialFlag(cmd, &path)
	cmd.Flags().StringVar(&workDir, "workdir", os.Getenv(agent.EnvWorkDir), "directory jobs run under (env DYNPOOL_AGENT_WORKDIR; default a dynpool-agent directory in the system temp directory)")
	return cmd
}

// hostname is the default machine name, "" when unknown.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
