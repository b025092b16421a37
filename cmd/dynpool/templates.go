package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
)

// newTemplatesCmd builds "dynpool templates": step templates in the
// community step-template library's format (docs/templates.md).
func newTemplatesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "templates", Short: "Import, list, show and delete step templates"}
	cmd.AddCommand(newTemplatesImportCmd(a),
		&cobra.Command{
			Use:   "list",
			Short: "List step templates (newest version of each)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				all, err := a.client().ListStepTemplates(cmd.Context())
				if err != nil {
					return err
				}
				w := cmd.OutOrStdout()
				if a.output == outputJSON {
					return printJSON(w, all)
				}
				tb := newTable(w, "ID", "NAME", "VERSION", "SYNTAX", "PARAMETERS")
				for _, st := range all {
					tb.row(st.ID, st.Name, strconv.Itoa(st.Version), st.Syntax, strings.Join(st.ParameterNames, ", "))
				}
				return tb.flush()
			},
		},
		newTemplatesShowCmd(a),
		&cobra.Command{
			Use:   "delete ID",
			Short: "Delete a step template, every version",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := a.client().DeleteStepTemplate(cmd.Context(), args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "step template %s deleted\n", args[0])
				return nil
			},
		},
	)
	return cmd
}

// newTemplatesShowCmd builds "dynpool templates show ID [--version N]".
func newTemplatesShowCmd(a *app) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show a step template with its parameters and script",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.client().GetStepTemplate(cmd.Context(), args[0], version)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if a.output == outputJSON {
				return printJSON(w, st)
			}
			f := newFields(w)
			f.row("ID:", st.ID)
			f.row("Name:", st.Name)
			f.row("Version:", strconv.Itoa(st.Version))
			f.row("Syntax:", st.Syntax)
			f.row("Description:", strings.ReplaceAll(st.Description, "\n", " "))
			if err := f.flush(); err != nil {
				return err
			}
			tb := newTable(w, "PARAMETER", "LABEL", "DEFAULT", "SENSITIVE")
			for _, p := range st.Parameters {
				def := p.DefaultValue
				switch {
				case p.Sensitive && p.HasDefault:
					def = "(hidden)"
				case !p.HasDefault:
					def = "(required)"
				}
				tb.row(p.Name, p.Label, def, yesNo(p.Sensitive))
			}
			if err := tb.flush(); err != nil {
				return err
			}
			fmt.Fprintf(w, "Script:\n%s\n", strings.TrimRight(st.ScriptBody, "\n"))
			return nil
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "version to show (default: the newest)")
	return cmd
}

// importResult is one file's outcome of "dynpool templates import".
type importResult struct {
	File     string   `json:"file"`
	ID       string   `json:"id,omitempty"`
	Name     string   `json:"name,omitempty"`
	Version  int      `json:"version,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// newTemplatesImportCmd builds "dynpool templates import FILE|DIR...": it
// imports each file (a directory: its *.json files), reports each one's
// outcome and exits 1 when any was refused.
func newTemplatesImportCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE|DIR...",
		Short: "Import step templates from library JSON files (a directory: its *.json files)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := templateFiles(args)
			if err != nil {
				return err
			}
			c := a.client()
			w := cmd.OutOrStdout()
			var results []importResult
			refused := 0
			for _, file := range files {
				res := importResult{File: file}
				data, err := os.ReadFile(file)
				if err == nil {
					var st *api.StepTemplate
					if st, err = c.ImportStepTemplate(cmd.Context(), data); err == nil {
						res.ID, res.Name, res.Version, res.Warnings = st.ID, st.Name, st.Version, st.Warnings
					}
				}
				if err != nil {
					res.Error = refusal(err)
					refused++
				}
				results = append(results, res)
				if a.output != outputJSON {
					printImportResult(w, res)
				}
			}
			if a.output == outputJSON {
				if err := printJSON(w, results); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(w, "%d imported, %d refused\n", len(files)-refused, refused)
			}
			if refused > 0 {
				return exitError{1}
			}
			return nil
		},
	}
}

// printImportResult prints one file's outcome and its warnings.
func printImportResult(w io.Writer, r importResult) {
	if r.Error != "" {
		fmt.Fprintf(w, "%s: refused: %s\n", r.File, r.Error)
		return
	}
	fmt.Fprintf(w, "%s: imported %s %q version %d\n", r.File, r.ID, r.Name, r.Version)
	for _, warning := range r.Warnings {
		fmt.Fprintf(w, "%s: warning: %s\n", r.File, warning)
	}
}

// templateFiles expands args: a directory stands for its *.json files, in
// name order; a directory without any is an error.
func templateFiles(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		info, err := os.Stat(arg)
		if err != nil || !info.IsDir() {
			files = append(files, arg) // a missing file is reported as refused
			continue
		}
		matches, err := filepath.Glob(filepath.Join(arg, "*.json"))
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", arg, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("directory %s holds no *.json file", arg)
		}
		files = append(files, matches...)
	}
	return files, nil
}

// refusal says why a file was refused: the server's message with the
// key at fault ("ActionType: ..."), or the error as it is.
func refusal(err error) string {
	var e *client.Error
	if !errors.As(err, &e) || e.Message == "" {
		return err.Error()
	}
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}
