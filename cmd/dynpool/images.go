package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newImagesCmd builds "dynpool images": the catalog as tenants see it
// (list, show) and the operator's commands on it (reload, add-build,
// deprecations; admin token).
func newImagesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "Show the worker image catalog; reload it and add builds (admin token)"}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List worker images and image aliases",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				l, err := a.client().ListImages(cmd.Context())
				if err != nil {
					return err
				}
				return printImageList(cmd.OutOrStdout(), a, l)
			},
		},
		&cobra.Command{
			Use:   "show ID",
			Short: "Show a worker image with its tools and builds",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				im, err := a.client().GetImage(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return printImage(cmd.OutOrStdout(), a, im)
			},
		},
		&cobra.Command{
			Use:   "reload",
			Short: "Make the server read its catalog file again (admin token)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				l, err := a.client().ReloadCatalog(cmd.Context())
				if err != nil {
					return err
				}
				return printImageList(cmd.OutOrStdout(), a, l)
			},
		},
		newImagesAddBuildCmd(a),
		newImagesDeprecationsCmd(a),
	)
	return cmd
}

// printImageList prints l as JSON, or as the images table, a blank line,
// then the aliases table.
func printImageList(w io.Writer, a *app, l *api.ImageList) error {
	if a.output == outputJSON {
		return printJSON(w, l)
	}
	tb := newTable(w, "ID", "NAME", "OS", "STATUS", "DEPRECATION", "END OF LIFE", "LATEST BUILD")
	for _, im := range l.Images {
		tb.row(im.ID, im.Name, im.OS, im.Status, im.DeprecationDate, im.EndOfLifeDate, latestBuild(im.Builds))
	}
	if err := tb.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tb = newTable(w, "ID", "NAME", "RESOLVES TO")
	for _, al := range l.Aliases {
		tb.row(al.ID, al.Name, al.ResolvesTo)
	}
	return tb.flush()
}

// printImage prints im as JSON, or as "KEY: value" lines, a blank line,
// the tools table, a blank line and the builds table.
func printImage(w io.Writer, a *app, im *api.Image) error {
	if a.output == outputJSON {
		return printJSON(w, im)
	}
	kv := newFields(w)
	kv.row("ID:", im.ID)
	kv.row("NAME:", im.Name)
	kv.row("OS:", im.OS)
	kv.row("FAMILY:", im.Family)
	kv.row("STATUS:", im.Status)
	kv.row("START:", im.StartDate)
	kv.row("DEPRECATION:", im.DeprecationDate)
	kv.row("END OF LIFE:", im.EndOfLifeDate)
	if err := kv.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tb := newTable(w, "NAME", "VERSIONS", "PATH")
	for _, tl := range im.Tools {
		tb.row(tl.Name, strings.Join(tl.Versions, ", "), tl.Path)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tb = newTable(w, "VERSION", "RELEASED")
	for _, b := range im.Builds {
		tb.row(b.Version, b.Released)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	if len(im.Brownouts) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tb = newTable(w, "BROWNOUT FROM", "TO (steps on the image fail in between)")
	for _, b := range im.Brownouts {
		tb.row(b.From.UTC().Format("2006-01-02 15:04 UTC"), b.To.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return tb.flush()
}

// latestBuild returns the version of the most recently released build;
// "2006-01-02" dates compare as strings.
func latestBuild(bs []api.Build) string {
	var best api.Build
	for _, b := range bs {
		if b.Released >= best.Released {
			best = b
		}
	}
	return best.Version
}
