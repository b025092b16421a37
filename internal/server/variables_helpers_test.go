package server_test

import (
	"context"
	"fmt"
	"os"

	"github.com/dynpool/dynpool/internal/agent"
)

// testSecretKey is the secret key of test servers on PostgreSQL, which
// require one (32 bytes, base64).
const testSecretKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// runHelperIfAsked runs the agent's helper commands when a step's script
// calls this test binary as "$DYNPOOL_CLI" agent artifact ..., as it
// would call the dynpool binary. TestMain calls it.
func runHelperIfAsked() {
	if len(os.Args) < 3 || os.Args[1] != "agent" || os.Getenv(agent.EnvJobToken) == "" {
		return
	}
	if err := agent.RunHelper(context.Background(), os.Args[2:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dynpool agent:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
