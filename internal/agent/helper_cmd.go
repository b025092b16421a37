package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// HelperUsage describes the commands [RunHelper] runs.
const HelperUsage = `usage (inside a step's script):
  dynpool agent artifact push FILE [--name NAME]   store FILE as artifact NAME (default: its base name)
  dynpool agent artifact pull NAME [--to PATH]     fetch artifact NAME to PATH (default: ./NAME)
  dynpool agent artifact list                      list the task's artifacts`

// errUsage marks a helper command line that does not parse.
var errUsage = errors.New(HelperUsage)

// RunHelper runs a helper command a step's script calls, args being what
// follows "dynpool agent" (e.g. ["artifact", "push", "app.tgz"]); it
// reads the job's credential through getenv and reports to out.
func RunHelper(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	pos, flags, err := parseHelperArgs(args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 3 && pos[0] == "artifact" && pos[1] == "push" && onlyFlags(flags, "name"):
		a, err := ArtifactPush(ctx, getenv, pos[2], flags["name"])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "artifact %s stored: %d bytes, sha256 %s\n", a.Name, a.Size, a.SHA256)
		return nil
	case len(pos) == 3 && pos[0] == "artifact" && pos[1] == "pull" && onlyFlags(flags, "to"):
		path, err := ArtifactPull(ctx, getenv, pos[2], flags["to"])
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "artifact %s written to %s\n", pos[2], path)
		return nil
	case len(pos) == 2 && pos[0] == "artifact" && pos[1] == "list" && onlyFlags(flags):
		list, err := ArtifactList(ctx, getenv)
		if err != nil {
			return err
		}
		for _, a := range list {
			fmt.Fprintf(out, "%s\t%d\t%s\t%s\n", a.Name, a.Size, a.SHA256, a.Step)
		}
		return nil
	}
	return errUsage
}

// parseHelperArgs splits args into positional arguments and --flag VALUE
// (or --flag=VALUE) pairs, flags anywhere.
func parseHelperArgs(args []string) ([]string, map[string]string, error) {
	var pos []string
	flags := map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			pos = append(pos, a)
			continue
		}
		if n, v, found := strings.Cut(name, "="); found {
			flags[n] = v
			continue
		}
		if i+1 == len(args) {
			return nil, nil, fmt.Errorf("--%s needs a value\n%w", name, errUsage)
		}
		flags[name] = args[i+1]
		i++
	}
	return pos, flags, nil
}

// onlyFlags reports whether flags holds no name but allowed.
func onlyFlags(flags map[string]string, allowed ...string) bool {
	for k := range flags {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return false
		}
	}
	return true
}
