package docker

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/dynpool/dynpool/internal/provider"
)

// The ListSurvivesRestart case of the conformance suite (TestConformance)
// already checks that a container left behind by a stopped server is
// listed, with its labels, and destroyed by a fresh provider of the same
// installation, so there is no separate test of that here.

// serverPort is the port the isolation tests' agent stand-in serves on.
const serverPort = 8080

// serverGreeting is what the stand-in writes to each connection.
const serverGreeting = "hi"

// lineServer is an agent stand-in that serves serverGreeting on serverPort
// to every connection (busybox nc: -ll keeps listening, -e runs echo on
// each connection) and lives until it is stopped.
var lineServer = fmt.Sprintf("nc -ll -p %d -e echo %s &\nexec sleep 300", serverPort, serverGreeting)

// probeTimeout bounds one probe: nc gives up connecting after 2 s, and
// timeout kills it after 5 s whatever it waits for.
const probeTimeout = 10 * time.Second

// probe runs `timeout 5 nc -w 2 host port` in container id with the
// Docker client and returns what nc wrote (stdout and stderr) and its exit
// code. nc gets an empty stdin, so it only reads what the peer sends until
// the peer closes.
func probe(ctx context.Context, t *testing.T, p *Provider, id, host string, port int) (string, int) {
	t.Helper()
	return execIn(ctx, t, p, id, "timeout", "5", "nc", "-w", "2", host, strconv.Itoa(port))
}

// execIn runs cmd in container id with the Docker client and returns what
// it wrote (stdout and stderr) and its exit code; it fails the test when
// cmd is not done within probeTimeout.
func execIn(ctx context.Context, t *testing.T, p *Provider, id string, cmd ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	ex, err := p.client.ContainerExecCreate(ctx, id, container.ExecOptions{
		Cmd:          cmd,
		AttachStdout: true,
		AttachStderr: true,
	})
	if err != nil {
		t.Fatalf("exec %q in %s: create: %v", cmd, id, err)
	}
	hj, err := p.client.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec %q in %s: attach: %v", cmd, id, err)
	}
	defer hj.Close()
	stop := context.AfterFunc(ctx, hj.Close) // unblocks the copy below
	defer stop()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, hj.Reader); err != nil && ctx.Err() == nil {
		t.Fatalf("exec %q in %s: read output: %v", cmd, id, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("exec %q in %s: not done within %v (output %q)", cmd, id, probeTimeout, out.String())
	}
	// The stream ends when the process exits; its exit code follows soon.
	for {
		st, err := p.client.ContainerExecInspect(ctx, ex.ID)
		if err != nil {
			t.Fatalf("exec %q in %s: inspect: %v", cmd, id, err)
		}
		if !st.Running {
			return out.String(), st.ExitCode
		}
		select {
		case <-ctx.Done():
			t.Fatalf("exec %q in %s: still running after its output ended", cmd, id)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// probeUntil probes until nc exits 0 having read want, and fails the test
// when that does not happen before ctx ends or within 30 s (the stand-in
// may not be listening yet right after Create).
func probeUntil(ctx context.Context, t *testing.T, p *Provider, from, to, host string, port int, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, code := probe(ctx, t, p, from, host, port)
		if code == 0 && strings.TrimSpace(out) == want {
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("%s cannot reach %s at %s:%d: nc exit %d, output %q; want exit 0 and %q", from, to, host, port, code, out, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// workerIP returns the address of worker r on its tenant's network.
func workerIP(ctx context.Context, t *testing.T, p *Provider, r *provider.Resource) string {
	t.Helper()
	info, err := p.client.ContainerInspect(ctx, r.ID)
	if err != nil {
		t.Fatalf("inspect %s: %v", r.WorkerID(), err)
	}
	netName := p.networkName(r.Labels[provider.LabelTenant])
	es := info.NetworkSettings.Networks[netName]
	if es == nil || es.IPAddress == "" {
		t.Fatalf("%s has no address on %s (networks %v)", r.WorkerID(), netName, info.NetworkSettings.Networks)
	}
	return es.IPAddress
}

// TestNetworkIsolation creates workers a1 and a2 of tenant "a" and b1 of
// tenant "b", each serving a line on serverPort, and checks from inside
// the containers that a1 reaches a2 (one tenant network), that a1 does not
// reach b1 (tenant networks are isolated: invariant 1 of the design), and
// that every worker reaches a listener on the host, the control plane,
// through host.docker.internal.
func TestNetworkIsolation(t *testing.T) {
	t.Parallel()
	needEngine(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	// The control plane: on all addresses, as the package doc asks, so the
	// docker0 gateway that host.docker.internal names reaches it.
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, _ = c.Write([]byte("control-plane\n"))
			_ = c.Close()
		}
	}()
	hostPort := ln.Addr().(*net.TCPAddr).Port

	p := newProvider(t, standIn(t, lineServer))
	a1 := create(t, p, "a1", "a")
	a2 := create(t, p, "a2", "a")
	b1 := create(t, p, "b1", "b")
	ipA2, ipB1 := workerIP(ctx, t, p, a2), workerIP(ctx, t, p, b1)
	if ipA1 := workerIP(ctx, t, p, a1); ipA1 == ipA2 || ipA1 == ipB1 || ipA2 == ipB1 {
		t.Fatalf("workers share an address: a1 %s, a2 %s, b1 %s", ipA1, ipA2, ipB1)
	}

	// Same tenant: a1 reaches a2.
	probeUntil(ctx, t, p, a1.ID, "a2", ipA2, serverPort, serverGreeting)

	// b1 serves (it reaches itself), so what a1 sees next is the network.
	probeUntil(ctx, t, p, b1.ID, "b1", ipB1, serverPort, serverGreeting)

	// Other tenant: a1 does not reach b1, neither connecting (timeout or
	// refusal) nor reading its greeting.
	if out, code := probe(ctx, t, p, a1.ID, ipB1, serverPort); code == 0 || strings.Contains(out, serverGreeting) {
		t.Errorf("a1 (tenant a) reaches b1 (tenant b) at %s:%d: nc exit %d, output %q; want a failure", ipB1, serverPort, code, out)
	} else {
		t.Logf("a1 -> b1 %s:%d fails as it should: nc exit %d, output %q", ipB1, serverPort, code, out)
	}
	// Nor the other way round.
	ipA1 := workerIP(ctx, t, p, a1)
	if out, code := probe(ctx, t, p, b1.ID, ipA1, serverPort); code == 0 || strings.Contains(out, serverGreeting) {
		t.Errorf("b1 (tenant b) reaches a1 (tenant a) at %s:%d: nc exit %d, output %q; want a failure", ipA1, serverPort, code, out)
	}

	// Every worker reaches the control plane on the host.
	before := accepted.Load()
	for _, r := range []*provider.Resource{a1, a2, b1} {
		probeUntil(ctx, t, p, r.ID, "the host's listener", HostGateway, hostPort, "control-plane")
	}
	if n := accepted.Load() - before; n < 3 {
		t.Errorf("the host's listener accepted %d connections, want at least 3", n)
	}
}
