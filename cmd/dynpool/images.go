package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newImagesCmd builds "dynpool images", the read-only view of the catalog.
func newImagesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "Show the worker image catalog"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List worker images and image aliases",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := a.client().ListImages(cmd.Context())
			if err != nil {
				return err
			}
			if a.output == outputJSON {
				return printJSON(cmd.OutOrStdout(), l)
			}
			return printImages(cmd, l)
		},
	})
	return cmd
}

// printImages prints the images table, a blank line, then the aliases.
func printImages(cmd *cobra.Command, l *api.ImageList) error {
	w := cmd.OutOrStdout()
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
