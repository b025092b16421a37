package main

import (
	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/internal/server"
)

// limitFlags adds the flags of server.Limits to cmd (docs/security.md
// has the table); a negative value switches a limit off.
func limitFlags(cmd *cobra.Command, l *server.Limits) {
	f := cmd.Flags()
	f.IntVar(&l.LogLineBytes, "log-line-max-bytes", server.DefaultLogLineBytes, "longest log line an agent may upload, in bytes (413 beyond)")
	f.IntVar(&l.LogLinesPerUpload, "log-lines-per-upload", server.DefaultLogLinesPerUpload, "most log lines in one agent upload (413 beyond)")
	f.Float64Var(&l.LogLinesPerSecond, "log-lines-per-second", server.DefaultLogLinesPerSecond, "log lines a second each worker may upload (429 with Retry-After beyond)")
	f.IntVar(&l.LogLineBurst, "log-line-burst", server.DefaultLogLineBurst, "log lines a worker may upload at once above --log-lines-per-second")
	f.DurationVar(&l.BodyReadTimeout, "body-read-timeout", server.DefaultBodyReadTimeout, "how long a client may take to send a request body (408 beyond; artifact uploads exempt)")
	f.DurationVar(&l.IdleTimeout, "conn-idle-timeout", server.DefaultIdleTimeout, "close keep-alive connections idle this long")
	f.IntVar(&l.AuthFailures, "auth-failures", server.DefaultAuthFailures, "failed authentications from one non-loopback address within --auth-window before it gets 429")
	f.DurationVar(&l.AuthWindow, "auth-window", server.DefaultAuthWindow, "the window --auth-failures counts in")
}
