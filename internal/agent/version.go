package agent

import (
	"runtime/debug"
	"sync"
)

// version is the agent's release, set at build time with
// -ldflags "-X github.com/dynpool/dynpool/internal/agent.version=v1.4.0";
// empty in a plain `go build`.
var version string

// Version is what the agent reports as its version in every heartbeat,
// shown in the worker list: the release set at build time, else the
// module version Go recorded (a `go install …@v1.4.0`), else the VCS
// revision the binary was built from ("devel+3f2c1a9e0b7d", with
// "+dirty" for uncommitted changes), else "devel".
var Version = sync.OnceValue(func() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	revision, dirty := "", ""
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 12:
			revision = "+" + s.Value[:12]
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	return "devel" + revision + dirty
})
