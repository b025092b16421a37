package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dynpool/dynpool/api"
)

// newImagesAddBuildCmd builds "dynpool images add-build IMAGE --version V
// --released DAY [--artifact PROVIDER=REF ...]".
func newImagesAddBuildCmd(a *app) *cobra.Command {
	var req api.AddBuildRequest
	var artifacts []string
	cmd := &cobra.Command{
		Use:   "add-build IMAGE --version VERSION --released YYYY-MM-DD [--artifact PROVIDER=REF ...]",
		Short: "Add a build to an image until the next reload or restart (admin token)",
		Long: "Add-build makes new workers of IMAGE use a new build from its release\n" +
			"day on. It lasts until the catalog is reloaded or the server restarts:\n" +
			"put it in the catalog file to keep it. --artifact says per provider how\n" +
			"to make a worker of the build, e.g. --artifact process= (no artifact)\n" +
			"or --artifact docker=registry/image:tag.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := parseArtifacts(artifacts)
			if err != nil {
				cmd.SilenceUsage = false
				return err
			}
			req.Artifacts = m
			im, err := a.client().AddBuild(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return printImage(cmd.OutOrStdout(), a, im)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Version, "version", "", "build version, e.g. 2026.11.28")
	f.StringVar(&req.Released, "released", "", "UTC day from which new workers use the build, e.g. 2026-11-28")
	f.StringArrayVar(&artifacts, "artifact", nil, "PROVIDER=REF per provider, repeatable; PROVIDER= means no artifact")
	_ = cmd.MarkFlagRequired("version") // the flags exist: cannot fail
	_ = cmd.MarkFlagRequired("released")
	return cmd
}

// parseArtifacts turns --artifact PROVIDER=REF values into the map of
// api.AddBuildRequest; REF may be empty, PROVIDER may not, and a provider
// may appear once. No values give an empty map, never nil.
func parseArtifacts(vals []string) (map[string]string, error) {
	m := make(map[string]string, len(vals))
	for _, v := range vals {
		provider, ref, ok := strings.Cut(v, "=")
		if !ok || provider == "" {
			return nil, fmt.Errorf("invalid --artifact %q: want PROVIDER=REF, e.g. process= or docker=registry/image:tag", v)
		}
		if _, dup := m[provider]; dup {
			return nil, fmt.Errorf("invalid --artifact %q: provider %s given twice", v, provider)
		}
		m[provider] = ref
	}
	return m, nil
}

// noDeprecations is what "images deprecations" prints when nothing is due.
const noDeprecations = "no pool uses a deprecated or decommissioned image"

// newImagesDeprecationsCmd builds "dynpool images deprecations".
func newImagesDeprecationsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "deprecations",
		Short: "List every tenant's pools that name a deprecated image (admin token)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ds, err := a.client().ListDeprecations(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if a.output == outputJSON {
				if ds == nil {
					ds = []api.Deprecation{} // "[]", not "null"
				}
				return printJSON(w, ds)
			}
			if len(ds) == 0 {
				fmt.Fprintln(w, noDeprecations)
				return nil
			}
			tb := newTable(w, "TENANT", "POOL", "IMAGE", "STATUS", "END OF LIFE", "DAYS LEFT")
			for _, d := range ds {
				days := ""
				if d.EndOfLifeDate != "" {
					days = strconv.Itoa(d.DaysLeft)
				}
				tb.row(orID(d.TenantName, d.TenantID), orID(d.PoolName, d.PoolID), d.Image, orID(d.Status, "-"), d.EndOfLifeDate, days)
			}
			return tb.flush()
		},
	}
}

// orID returns name, or id when name is empty.
func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}
