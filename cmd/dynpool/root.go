package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// defaultServer is the server the client commands call when neither
// --server nor DYNPOOL_SERVER says otherwise; it matches the server's
// default --listen address.
const defaultServer = "http://127.0.0.1:8080"

// Output formats of -o/--output.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// exitError ends the process with code and prints nothing more: the
// command already said why (e.g. run's failed step).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// app is what the client commands share: the resolved global flags and how
// to reach the terminal.
type app struct {
	getenv      func(string) string
	server      string
	token       string
	fingerprint string
	output      string
	// isTerminal reports whether w is an interactive terminal.
	isTerminal func(w io.Writer) bool
}

// client returns an API client for the resolved --server and --token,
// trusting only the certificate of --server-fingerprint when given.
func (a *app) client() *client.Client {
	return client.New(a.server, a.token, client.WithHTTPClient(tlspin.Client(a.fingerprint)))
}

// execute runs the dynpool command line args with ctx, writing to stdout
// and stderr and reading the environment through getenv, and returns the
// process exit status: 0, an exitError's code, 130 for any other error once
// ctx has ended (Ctrl-C), or 1.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRootCmd(getenv)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		fmt.Fprintf(stderr, "Hint: a dynpool server's own certificate is trusted by its fingerprint: pass --server-fingerprint or set %s to the sha256:… value the server printed at start.\n", tlspin.EnvFingerprint)
	}
	if ctx.Err() != nil {
		return exitCanceled
	}
	return 1
}

// newRootCmd builds the dynpool command tree; getenv supplies
// DYNPOOL_SERVER and DYNPOOL_TOKEN.
func newRootCmd(getenv func(string) string) *cobra.Command {
	a := &app{getenv: getenv, isTerminal: isTerminal}
	root := &cobra.Command{
		Use:           "dynpool",
		Short:         "Dynamic worker pools: server, agent and client",
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			// Arguments are valid by now: a later error is not a usage error.
			cmd.SilenceUsage = true
			return a.resolve(cmd)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.server, "server", "", "server URL (default $DYNPOOL_SERVER, else "+defaultServer+")")
	pf.StringVar(&a.token, "token", "", "API key or admin token (default $DYNPOOL_TOKEN)")
	pf.StringVar(&a.fingerprint, "server-fingerprint", "", "trust only the server certificate of this fingerprint, sha256:… as dynpool server prints it (default $"+tlspin.EnvFingerprint+")")
	pf.StringVarP(&a.output, "output", "o", outputTable, "output format: table or json")
	root.AddCommand(
		newServerCmd(), newAgentCmd(a), newDemoCmd(), newBenchCmd(a),
		newTenantsCmd(a), newPoolsCmd(a), newImagesCmd(a),
		newTasksCmd(a), newWorkersCmd(a), newRunCmd(a),
		newTemplatesCmd(a),
	)
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command group (a command that only
// holds others, such as "tasks") answer an unknown subcommand with an
// error, and exit 1, rather than its help and 0.
func refuseUnknownSubcommands(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		refuseUnknownSubcommands(c)
	}
	if cmd.Runnable() || !cmd.HasSubCommands() || !cmd.HasParent() {
		return
	}
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		return fmt.Errorf("unknown command %q for %q; see %q", args[0], c.CommandPath(), c.CommandPath()+" --help")
	}
}

// resolve fills the global flags not given on the command line from the
// environment and checks --output.
func (a *app) resolve(cmd *cobra.Command) error {
	if !cmd.Flags().Changed("server") {
		a.server = a.getenv("DYNPOOL_SERVER")
		if a.server == "" {
			a.server = defaultServer
		}
	}
	if !cmd.Flags().Changed("token") {
		a.token = a.getenv("DYNPOOL_TOKEN")
	}
	if !cmd.Flags().Changed("server-fingerprint") {
		a.fingerprint = a.getenv(tlspin.EnvFingerprint)
	}
	if u, err := url.Parse(a.server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("server %q (from --server or DYNPOOL_SERVER) is not a URL such as %s", a.server, defaultServer)
	}
	if a.output != outputTable && a.output != outputJSON {
		cmd.SilenceUsage = false
		return fmt.Errorf("invalid --output %q: want %s or %s", a.output, outputTable, outputJSON)
	}
	return nil
}

// isTerminal reports whether w is a file open on a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
