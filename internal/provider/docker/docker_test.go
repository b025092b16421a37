package docker

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/provider"
)

// testImage is the worker image the tests run; .ci/docker-images.sh
// builds it (FROM scratch with a static busybox: sh, sleep, echo, cat, env).
const testImage = "dynpool-test/worker:busybox"

// engineMissing says why the tests that need an engine cannot run, or "".
// The engine is the one of DOCKER_HOST, else the local socket.
var engineMissing = sync.OnceValue(func() string {
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return fmt.Sprintf("no docker client: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Ping(ctx); err != nil {
		return fmt.Sprintf("the docker engine at %s does not answer: %v", c.DaemonHost(), err)
	}
	if _, err := c.ImageInspect(ctx, testImage); err != nil {
		return fmt.Sprintf("image %s is missing (%v); build it with `bash .ci/docker-images.sh`", testImage, err)
	}
	return ""
})

func needEngine(t *testing.T) {
	t.Helper()
	if why := engineMissing(); why != "" {
		t.Skip("skipping docker provider test: " + why)
	}
}

// standIn writes an agent stand-in: a shell script, run by the image's
// busybox sh as /dynpool/dynpool, with body after the #! line.
func standIn(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dynpool")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// sleeper is an agent stand-in that lives until it is stopped.
const sleeper = "exec sleep 300"

// newProvider returns a Provider of an installation of its own running
// agentBinary. Its cleanup removes every container and network of that
// installation.
func newProvider(t *testing.T, agentBinary string) *Provider {
	t.Helper()
	needEngine(t)
	inst := "test-" + strconv.Itoa(os.Getpid()) + "-" + strings.NewReplacer("/", "-", "#", "-").Replace(t.Name())
	return newProviderOf(t, inst, agentBinary)
}

func newProviderOf(t *testing.T, inst, agentBinary string) *Provider {
	t.Helper()
	p, err := New(t.Context(), Config{
		Installation: inst,
		AgentBinary:  agentBinary,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		cleanInstallation(t, p)
		_ = p.Close()
	})
	return p
}

// cleanInstallation removes what a test left of p's installation.
func cleanInstallation(t *testing.T, p *Provider) {
	ctx := context.Background() // t.Context() is done in cleanups
	f := filters.NewArgs(filters.Arg("label", provider.LabelInstallation+"="+p.cfg.Installation))
	cs, err := p.client.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Errorf("cleanup: list containers: %v", err)
	}
	for _, c := range cs {
		_ = p.client.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}
	ns, err := p.client.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Errorf("cleanup: list networks: %v", err)
	}
	for _, n := range ns {
		_ = p.client.NetworkRemove(ctx, n.ID)
	}
}

func params(p *Provider, workerID, tenantID string) *provider.CreateParams {
	return &provider.CreateParams{
		WorkerID:          workerID,
		TenantID:          tenantID,
		OS:                "linux",
		Artifact:          testImage,
		ServerURL:         "http://127.0.0.1:1",
		RegistrationToken: "reg-token",
		Labels: map[string]string{
			provider.LabelInstallation: p.cfg.Installation,
			provider.LabelWorker:       workerID,
			provider.LabelTenant:       tenantID,
		},
	}
}

func create(t *testing.T, p *Provider, workerID, tenantID string) *provider.Resource {
	t.Helper()
	r, err := p.Create(t.Context(), params(p, workerID, tenantID))
	if err != nil {
		t.Fatalf("Create %s: %v", workerID, err)
	}
	return r
}

func list(t *testing.T, p *Provider) []*provider.Resource {
	t.Helper()
	rs, err := p.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return rs
}

func listedIDs(t *testing.T, p *Provider) []string {
	t.Helper()
	var ids []string
	for _, r := range list(t, p) {
		ids = append(ids, r.ID)
	}
	return ids
}

// networkExists reports whether the network name exists.
func networkExists(t *testing.T, p *Provider, name string) bool {
	t.Helper()
	_, err := p.client.NetworkInspect(t.Context(), name, network.InspectOptions{})
	if err != nil && !cerrdefs.IsNotFound(err) {
		t.Fatalf("inspect network %s: %v", name, err)
	}
	return err == nil
}

func destroy(t *testing.T, p *Provider, id string) {
	t.Helper()
	if err := p.Destroy(t.Context(), id); err != nil {
		t.Fatalf("Destroy %s: %v", id, err)
	}
}

func TestCreateListDestroy(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	r := create(t, p, "w-1", "t-1")
	want := params(p, "w-1", "t-1").Labels
	if r.ID == "" || !maps.Equal(r.Labels, want) {
		t.Errorf("Create = %+v, want a container id and labels %v", r, want)
	}

	rs := list(t, p)
	if len(rs) != 1 || rs[0].ID != r.ID || !maps.Equal(rs[0].Labels, want) || rs[0].WorkerID() != "w-1" {
		t.Fatalf("List = %v, want only %s with labels %v", rs, r.ID, want)
	}

	info, err := p.client.ContainerInspect(t.Context(), r.ID)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	net := p.networkName("t-1")
	if !info.State.Running {
		t.Errorf("container state %s, want running", info.State.Status)
	}
	if _, ok := info.NetworkSettings.Networks[net]; !ok || len(info.NetworkSettings.Networks) != 1 {
		t.Errorf("container networks %v, want only %s", slices.Collect(maps.Keys(info.NetworkSettings.Networks)), net)
	}
	if info.Name != "/"+p.containerName("w-1") {
		t.Errorf("container name %q, want /%s", info.Name, p.containerName("w-1"))
	}
	for _, kv := range []string{
		"DYNPOOL_SERVER=http://host.docker.internal:1", "DYNPOOL_AGENT_TOKEN=reg-token", "DYNPOOL_AGENT_WORKDIR=/work",
		"DYNPOOL_WORKER_ID=w-1", "DYNPOOL_TENANT_ID=t-1", "DYNPOOL_INSTALLATION=" + p.cfg.Installation,
	} {
		if !slices.Contains(info.Config.Env, kv) {
			t.Errorf("container env %q lacks %q", info.Config.Env, kv)
		}
	}
	hc := info.HostConfig
	if hc.Init == nil || !*hc.Init || hc.Privileged || !slices.Contains(hc.ExtraHosts, "host.docker.internal:host-gateway") {
		t.Errorf("host config init %v privileged %v extra hosts %q", hc.Init, hc.Privileged, hc.ExtraHosts)
	}
	for _, m := range info.Mounts {
		if strings.Contains(m.Source, "docker.sock") || m.Destination == AgentPath && m.RW {
			t.Errorf("mount %+v: no docker socket, agent read-only", m)
		}
	}
	n, err := p.client.NetworkInspect(t.Context(), net, network.InspectOptions{})
	if err != nil {
		t.Fatalf("inspect network: %v", err)
	}
	if n.Driver != "bridge" || n.Labels[provider.LabelInstallation] != p.cfg.Installation || n.Labels[provider.LabelTenant] != "t-1" {
		t.Errorf("network driver %q labels %v, want bridge labelled with installation and tenant", n.Driver, n.Labels)
	}

	destroy(t, p, r.ID)
	if ids := listedIDs(t, p); len(ids) != 0 {
		t.Errorf("List after Destroy = %v, want none", ids)
	}
	if _, err := p.client.ContainerInspect(t.Context(), r.ID); !cerrdefs.IsNotFound(err) {
		t.Errorf("inspect after Destroy = %v, want not found", err)
	}
	if networkExists(t, p, net) {
		t.Errorf("network %s still exists after its last worker was destroyed", net)
	}
	destroy(t, p, r.ID) // twice
	destroy(t, p, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	destroy(t, p, "no-such-container")
}

func TestTenantNetworks(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	a1 := create(t, p, "w-a1", "t-a")
	b := create(t, p, "w-b", "t-b")
	a2 := create(t, p, "w-a2", "t-a")
	netA, netB := p.networkName("t-a"), p.networkName("t-b")
	if netA == netB {
		t.Fatalf("both tenants on network %s", netA)
	}
	for _, c := range []struct {
		r   *provider.Resource
		net string
	}{{a1, netA}, {a2, netA}, {b, netB}} {
		info, err := p.client.ContainerInspect(t.Context(), c.r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := info.NetworkSettings.Networks[c.net]; !ok || len(info.NetworkSettings.Networks) != 1 {
			t.Errorf("%s on %v, want only %s", c.r.WorkerID(), slices.Collect(maps.Keys(info.NetworkSettings.Networks)), c.net)
		}
	}
	if ids := listedIDs(t, p); len(ids) != 3 {
		t.Errorf("List = %v, want 3 workers", ids)
	}

	destroy(t, p, a1.ID)
	if !networkExists(t, p, netA) {
		t.Errorf("network %s removed while w-a2 uses it", netA)
	}
	destroy(t, p, a2.ID)
	if networkExists(t, p, netA) {
		t.Errorf("network %s left after its last worker", netA)
	}
	if !networkExists(t, p, netB) {
		t.Errorf("network %s of the other tenant removed", netB)
	}
}

func TestConcurrentCreateOneTenant(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = p.Create(t.Context(), params(p, "w-"+strconv.Itoa(i), "t-1"))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Create w-%d: %v", i, err)
		}
	}
	if ids := listedIDs(t, p); len(ids) != len(errs) {
		t.Errorf("List = %v, want %d workers", ids, len(errs))
	}
}

func TestCreateMissingImage(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	cp := params(p, "w-1", "t-1")
	cp.Artifact = "dynpool-test/no-such-image:1"
	_, err := p.Create(t.Context(), cp)
	if err == nil || !strings.Contains(err.Error(), `image "dynpool-test/no-such-image:1" is not on the docker engine`) {
		t.Fatalf("Create = %v, want an error saying the image is not on the engine", err)
	}
	if _, err := p.client.ContainerInspect(t.Context(), p.containerName("w-1")); !cerrdefs.IsNotFound(err) {
		t.Errorf("container after a failed Create: %v, want none", err)
	}
}

func TestCreateTwiceIsAnError(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	create(t, p, "w-1", "t-1")
	if _, err := p.Create(t.Context(), params(p, "w-1", "t-1")); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("second Create = %v, want an error saying the container exists", err)
	}
}

func TestCreateInvalidParams(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	for _, mod := range []func(*provider.CreateParams){
		func(c *provider.CreateParams) { c.WorkerID = "" },
		func(c *provider.CreateParams) { c.WorkerID = "a/b" },
		func(c *provider.CreateParams) { c.TenantID = "a b" }, // "" is a standby worker
		func(c *provider.CreateParams) { c.Artifact = "" },
		func(c *provider.CreateParams) { c.OS = "windows" },
		func(c *provider.CreateParams) { c.ServerURL = "" },
	} {
		cp := params(p, "w-1", "t-1")
		mod(cp)
		if _, err := p.Create(t.Context(), cp); err == nil {
			t.Errorf("Create(%+v) = nil error, want one", cp)
		}
	}
	if ids := listedIDs(t, p); len(ids) != 0 {
		t.Errorf("List = %v, want none", ids)
	}
}

func TestExitedAgentIsListedStopped(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, "exit 3"))
	r := create(t, p, "w-1", "t-1")
	eventually.Holds(t, "the exited worker to be listed stopped", 30*time.Second, func() bool {
		rs := list(t, p)
		return len(rs) == 1 && rs[0].ID == r.ID && rs[0].Stopped
	})
	destroy(t, p, r.ID)
	if _, err := p.client.ContainerInspect(t.Context(), r.ID); !cerrdefs.IsNotFound(err) {
		t.Errorf("inspect after Destroy = %v, want not found", err)
	}
	if networkExists(t, p, p.networkName("t-1")) {
		t.Errorf("network left after its last worker")
	}
}

func TestOtherInstallation(t *testing.T) {
	t.Parallel()
	bin := standIn(t, sleeper)
	p := newProvider(t, bin)
	other := newProviderOf(t, p.cfg.Installation+"-other", bin)
	r := create(t, p, "w-1", "t-1")
	if ids := listedIDs(t, other); len(ids) != 0 {
		t.Errorf("other installation lists %v, want none", ids)
	}
	if err := other.Destroy(t.Context(), r.ID); err == nil || !strings.Contains(err.Error(), "belongs to installation") {
		t.Errorf("other installation's Destroy = %v, want an error", err)
	}
	if ids := listedIDs(t, p); !slices.Equal(ids, []string{r.ID}) {
		t.Errorf("List = %v, want [%s]", ids, r.ID)
	}
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	p := newProvider(t, standIn(t, sleeper))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.Create(ctx, params(p, "w-1", "t-1")); err == nil {
		t.Errorf("Create with a canceled context = nil error")
	}
	if _, err := p.List(ctx); err == nil {
		t.Errorf("List with a canceled context = nil error")
	}
}

// binDir holds the dynpool binary dynpoolBinary builds; TestMain removes
// it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// dynpoolBinary builds the real, static dynpool binary once per test run.
var dynpoolBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "dynpool-docker-test-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "dynpool")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/dynpool/dynpool/cmd/dynpool")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build dynpool: %v\n%s", err, out)
	}
	return bin, nil
})

// TestAgentReachesServerOnHost runs the real agent in a worker and checks
// that it registers, with its token, at a server the URL gives as
// 127.0.0.1: through host.docker.internal, the server listening on all
// addresses (see the package doc).
func TestAgentReachesServerOnHost(t *testing.T) {
	t.Parallel()
	needEngine(t)
	if testing.Short() {
		t.Skip("builds the dynpool binary")
	}
	bin, err := dynpoolBinary()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	registered := make(chan string, 10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/agent/v1/register" {
			registered <- r.Header.Get("Authorization")
		}
		http.Error(w, `{"error":{"code":"unauthorized","message":"test server"}}`, http.StatusUnauthorized)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	p := newProvider(t, bin)
	cp := params(p, "w-1", "t-1")
	cp.ServerURL = "http://127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if _, err := p.Create(t.Context(), cp); err != nil {
		t.Fatalf("Create: %v", err)
	}
	select {
	case auth := <-registered:
		if !strings.Contains(auth, "reg-token") {
			t.Errorf("register Authorization = %q, want the registration token", auth)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the agent in the container never reached the server on the host")
	}
}
