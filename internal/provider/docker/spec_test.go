package docker

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/mount"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/providertest"
)

func TestAgentServerURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080", "http://host.docker.internal:8080"},
		{"http://localhost:8080/base", "http://host.docker.internal:8080/base"},
		{"http://LOCALHOST", "http://host.docker.internal"},
		{"http://[::1]:9000", "http://host.docker.internal:9000"},
		{"http://0.0.0.0:8080", "http://host.docker.internal:8080"},
		{"http://127.1.2.3:80", "http://host.docker.internal:80"},
		{"https://dynpool.example:443", "https://dynpool.example:443"},
		{"http://10.0.0.5:8080", "http://10.0.0.5:8080"},
	}
	for _, tt := range tests {
		got, err := agentServerURL(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("agentServerURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "::", "no-host"} {
		if _, err := agentServerURL(bad); err == nil {
			t.Errorf("agentServerURL(%q) = nil error, want one", bad)
		}
	}
}

func TestContainerSpec(t *testing.T) {
	t.Parallel()
	cfg := &Config{Installation: "inst", AgentBinary: "/opt/dynpool", CPUs: 1.5, MemoryBytes: 512 << 20}
	p := &provider.CreateParams{WorkerID: "w-1", TenantID: "t-1", Artifact: "img:1", RegistrationToken: "tok", ServerFingerprint: "sha256:ab"}
	labels := map[string]string{provider.LabelWorker: "w-1"}
	c, h := containerSpec(cfg, p, labels, "net-1", "http://host.docker.internal:8080")

	if c.Image != "img:1" || !slices.Equal(c.Entrypoint, []string{"/dynpool/dynpool"}) || !slices.Equal(c.Cmd, []string{"agent"}) {
		t.Errorf("image %q entrypoint %q cmd %q, want img:1 [/dynpool/dynpool] [agent]", c.Image, c.Entrypoint, c.Cmd)
	}
	if c.Labels[provider.LabelWorker] != "w-1" {
		t.Errorf("labels = %v", c.Labels)
	}
	wantEnv := []string{
		"DYNPOOL_SERVER=http://host.docker.internal:8080", "DYNPOOL_AGENT_TOKEN=tok", "DYNPOOL_AGENT_WORKDIR=/work",
		"DYNPOOL_INSTALLATION=inst", "DYNPOOL_WORKER_ID=w-1", "DYNPOOL_TENANT_ID=t-1", "DYNPOOL_SERVER_FINGERPRINT=sha256:ab",
	}
	if !slices.Equal(c.Env, wantEnv) {
		t.Errorf("env = %q, want %q", c.Env, wantEnv)
	}
	if string(h.NetworkMode) != "net-1" {
		t.Errorf("network mode = %q, want net-1", h.NetworkMode)
	}
	if !slices.Equal(h.ExtraHosts, []string{"host.docker.internal:host-gateway"}) {
		t.Errorf("extra hosts = %q", h.ExtraHosts)
	}
	if h.Init == nil || !*h.Init || h.Privileged || len(h.CapAdd) > 0 || len(h.Binds) > 0 {
		t.Errorf("init %v privileged %v cap add %q binds %q; want init, no privilege, no binds", h.Init, h.Privileged, h.CapAdd, h.Binds)
	}
	want := []mount.Mount{
		{Type: mount.TypeBind, Source: "/opt/dynpool", Target: "/dynpool/dynpool", ReadOnly: true},
		{Type: mount.TypeVolume, Target: "/work"}, // shared with execution containers
	}
	if !slices.Equal(h.Mounts, want) {
		t.Errorf("mounts = %+v, want only %+v", h.Mounts, want)
	}
	if h.NanoCPUs != 1_500_000_000 || h.Memory != 512<<20 {
		t.Errorf("nano cpus %d memory %d, want 1.5e9 and 512 MiB", h.NanoCPUs, h.Memory)
	}
	_, h = containerSpec(&Config{}, p, labels, "n", "u")
	if h.NanoCPUs != 0 || h.Memory != 0 {
		t.Errorf("no limits configured: nano cpus %d memory %d, want 0", h.NanoCPUs, h.Memory)
	}
}

func TestSupports(t *testing.T) {
	t.Parallel()
	p := &Provider{}
	providertest.CheckSupports(t, p, "docker", []providertest.SupportsCase{
		{Name: "linux with docker artifact", OS: "linux", Artifacts: map[string]string{"docker": "img:1", "process": ""}, WantErr: ""},
		{Name: "windows", OS: "windows", Artifacts: map[string]string{"docker": "img:1"}, WantErr: `the docker provider makes linux workers only; image os is "windows"`},
		{Name: "no docker artifact", OS: "linux", Artifacts: map[string]string{"process": ""}, WantErr: `the image build has no "docker" artifact`},
		{Name: "empty docker artifact", OS: "linux", Artifacts: map[string]string{"docker": ""}, WantErr: `"docker" artifact is empty`},
		{Name: "nil artifacts", OS: "linux", Artifacts: nil, WantErr: `no "docker" artifact`},
	})
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "dynpool")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no installation", Config{AgentBinary: bin}, "installation is empty"},
		{"bad installation", Config{Installation: "a b", AgentBinary: bin}, `invalid name: installation "a b"`},
		{"bad prefix", Config{Installation: "i", NetworkPrefix: "-x", AgentBinary: bin}, `network prefix "-x"`},
		{"no agent binary", Config{Installation: "i"}, "agent binary is empty"},
		{"relative agent binary", Config{Installation: "i", AgentBinary: "dynpool"}, "not an absolute path"},
		{"missing agent binary", Config{Installation: "i", AgentBinary: bin + "-missing"}, "no such file"},
		{"agent binary not executable", Config{Installation: "i", AgentBinary: plain}, "not an executable file"},
		{"negative cpus", Config{Installation: "i", AgentBinary: bin, CPUs: -1}, "cpus -1 is negative"},
		{"negative memory", Config{Installation: "i", AgentBinary: bin, MemoryBytes: -1}, "memory bytes -1 is negative"},
		{"no engine", Config{Installation: "i", AgentBinary: bin, Host: "unix://" + filepath.Join(t.TempDir(), "none.sock")}, "does not answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := New(t.Context(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
