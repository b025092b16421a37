package docker

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// Where things are inside a worker container.
const (
	// AgentPath is where Config.AgentBinary is mounted and run from.
	AgentPath = "/dynpool/dynpool"
	// WorkDir is the agent's work directory (DYNPOOL_AGENT_WORKDIR) and the
	// container's working directory: an anonymous volume of the worker,
	// which its execution containers mount too.
	WorkDir = "/work"
	// HostGateway is the name a worker reaches the host by; see the
	// package doc.
	HostGateway = "host.docker.internal"
)

// resourceLabels are the labels List rebuilds from a container. A
// container's labels also hold its image's, so only these are taken.
var resourceLabels = []string{provider.LabelInstallation, provider.LabelWorker, provider.LabelTenant}

// agentServerURL returns the server URL as a worker container sees it: a
// loopback or unspecified host ("localhost", "127.0.0.1", "::1",
// "0.0.0.0") becomes HostGateway, port and path kept. Other URLs are
// returned unchanged.
func agentServerURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parse server url: %w", err)
	}
	if u.Host == "" {
		return "", fmt.Errorf("server url %q has no host", raw)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	loopback := strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") ||
		(ip != nil && (ip.IsLoopback() || ip.IsUnspecified()))
	if !loopback {
		return raw, nil
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(HostGateway, port)
	} else {
		u.Host = HostGateway
	}
	return u.String(), nil
}

// containerSpec returns the container and host configuration of a worker:
// a pure function of the provider's config, the worker's parameters, its
// labels, its network and the server URL as the container sees it.
func containerSpec(cfg *Config, p *provider.CreateParams, labels map[string]string, network, serverURL string) (*container.Config, *container.HostConfig) {
	init := true
	c := &container.Config{
		Image:      p.Artifact,
		Entrypoint: []string{AgentPath},
		Cmd:        []string{"agent"},
		WorkingDir: WorkDir,
		Labels:     labels,
		Env: []string{
			provider.EnvServer + "=" + serverURL,
			provider.EnvAgentToken + "=" + p.RegistrationToken,
			provider.EnvAgentWorkDir + "=" + WorkDir,
			provider.EnvInstallation + "=" + cfg.Installation,
			provider.EnvWorkerID + "=" + p.WorkerID,
			provider.EnvTenantID + "=" + p.TenantID,
			tlspin.EnvFingerprint + "=" + p.ServerFingerprint,
		},
	}
	h := &container.HostConfig{
		NetworkMode: container.NetworkMode(network),
		ExtraHosts:  []string{HostGateway + ":host-gateway"},
		Init:        &init,
		Mounts: []mount.Mount{{
			Type:     mount.TypeBind,
			Source:   cfg.AgentBinary,
			Target:   AgentPath,
			ReadOnly: true,
		}, {
			// A volume, so that execution containers can share it
			// (StepContainer.VolumesFrom); removed with the container.
			Type:   mount.TypeVolume,
			Target: WorkDir,
		}},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
		Resources: container.Resources{
			NanoCPUs: int64(cfg.CPUs * 1e9),
			Memory:   cfg.MemoryBytes,
		},
	}
	return c, h
}
