package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/internal/agent"
)

// newTasksArtifactsCmd builds "dynpool tasks artifacts ID".
func newTasksArtifactsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "artifacts ID",
		Short: "List the artifacts the steps of a task stored",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := a.client().ListArtifacts(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.output == outputJSON {
				return printJSON(cmd.OutOrStdout(), list)
			}
			tb := newTable(cmd.OutOrStdout(), "NAME", "SIZE", "SHA256", "STEP", "CREATED")
			for _, ar := range list {
				tb.row(ar.Name, strconv.FormatInt(ar.Size, 10), ar.SHA256, ar.Step, ar.CreatedAt.Local().Format("2006-01-02 15:04:05"))
			}
			return tb.flush()
		},
	}
}

// newTasksArtifactCmd builds "dynpool tasks artifact ID NAME [-o FILE]".
// Its local -o names the file, shadowing the global output format.
func newTasksArtifactCmd(a *app) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "artifact ID NAME",
		Short: "Download an artifact of a task (-o FILE, default ./NAME; - for stdout)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				file = filepath.Base(args[1])
			}
			if file == "-" {
				_, err := a.client().DownloadArtifact(cmd.Context(), args[0], args[1], cmd.OutOrStdout())
				return err
			}
			return downloadTo(cmd, a, args[0], args[1], file)
		},
	}
	cmd.Flags().StringVarP(&file, "output", "o", "", "file to write (default: the artifact's name in the current directory; - for stdout)")
	return cmd
}

// downloadTo writes the artifact to file whole or not at all, checking
// its SHA-256.
func downloadTo(cmd *cobra.Command, a *app, id, name, file string) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".dynpool-artifact-*")
	if err != nil {
		return fmt.Errorf("download artifact %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	want, err := a.client().DownloadArtifact(cmd.Context(), id, name, io.MultiWriter(tmp, sum))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(sum.Sum(nil)); want != "" && got != want {
		return fmt.Errorf("download artifact %s: the download is damaged: sha256 %s, want %s", name, got, want)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return fmt.Errorf("download artifact %s: %w", name, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "artifact %s written to %s\n", name, file)
	return nil
}

// newAgentArtifactCmd builds "dynpool agent artifact push|pull|list",
// the helpers a step's script calls with its job's credential.
func newAgentArtifactCmd() *cobra.Command {
	return &cobra.Command{
		Use:                "artifact push FILE [--name NAME] | pull NAME [--to PATH] | list",
		Short:              "Store or fetch an artifact of the running task (inside a step's script)",
		Long:               agent.HelperUsage,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return agent.RunHelper(cmd.Context(), append([]string{"artifact"}, args...), os.Getenv, cmd.OutOrStdout())
		},
	}
}
