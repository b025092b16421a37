package server_test

import (
	"crypto/rand"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/dynpool/dynpool/api"
	"github.com/dynpool/dynpool/client"
	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/kubernetes"
	"github.com/dynpool/dynpool/internal/provider/kubernetes/kubetest"
	"github.com/dynpool/dynpool/internal/server"
)

// kubeCatalog offers one linux image whose kubernetes artifact is the
// busybox test image; no kubelet pulls it: the node stand-in runs each
// pod's agent as a process of this test binary.
const kubeCatalog = `images:
  - id: busybox
    name: BusyBox
    os: linux
    family: busybox
    builds:
      - {version: "1", released: 2026-01-01, artifacts: {kubernetes: "dynpool-test/worker:busybox"}}
`

// kubeServer starts a server with the kubernetes provider on the shared
// test API server, of a fresh installation (returned) whose pods a node
// stand-in runs, unless noNode. The agents run as this test binary
// (TestMain), in the node's fresh working directory of each pod.
func kubeServer(t *testing.T, noNode bool, mutate func(*server.Config)) (*testServer, string, *rest.Config) {
	t.Helper()
	rc := kubetest.Shared(t)
	inst := "inst-" + strings.ToLower(rand.Text()[:10])
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "installation"), []byte(inst+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if !noNode {
		exe, err := filepath.Abs(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		// The pod says DYNPOOL_AGENT_WORKDIR=/work, the container's
		// emptyDir: here it is the process's working directory.
		agent := filepath.Join(t.TempDir(), "agent")
		script := "#!/bin/sh\nDYNPOOL_AGENT_WORKDIR=\"$PWD\" exec " + exe + " \"$@\"\n"
		if err := os.WriteFile(agent, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		kubetest.StartNode(t, rc, kubetest.NodeOptions{Selector: provider.LabelInstallation + "=" + inst, Executable: agent})
	}
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	if err := os.WriteFile(path, []byte(kubeCatalog), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load(path)
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	s := startServer(t, func(c *server.Config) {
		c.DataDir, c.Provider, c.Catalog = data, kubernetes.Name, cat
		c.Kubernetes = kubernetes.Config{REST: rc}
		advertiseLoopback(t, c)
		if mutate != nil {
			mutate(c)
		}
	})
	return s, inst, rc
}

// boxTenant creates a tenant with a pool "Box" of the busybox image.
func boxTenant(t *testing.T, s *testServer) (*api.Tenant, *client.Client) {
	t.Helper()
	tn, err := s.admin.CreateTenant(t.Context(), "acme")
	if err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	c := clientFor(s, tn.APIKey)
	if _, err := c.CreatePool(t.Context(), api.CreatePoolRequest{Name: "Box", Image: "busybox"}); err != nil {
		t.Fatalf("create pool: %v", err)
	}
	return tn, c
}

// probe returns a kubernetes provider of installation inst, to look at
// its pods.
func probe(t *testing.T, rc *rest.Config, inst string) *kubernetes.Provider {
	t.Helper()
	p, err := kubernetes.New(t.Context(), kubernetes.Config{Installation: inst, REST: rc})
	if err != nil {
		t.Fatalf("kubernetes: %v", err)
	}
	return p
}

// A task's steps run on pods: the node stand-in starts each pod's agent,
// which registers and runs the steps; the pod is in the tenant's
// namespace, labelled with its worker and tenant.
func TestTaskRunsOnPods(t *testing.T) {
	t.Parallel()
	s, inst, rc := kubeServer(t, false, nil)
	tn, c := boxTenant(t, s)
	task, lines := runTask(t, c,
		api.StepRequest{Name: "first", Syntax: api.SyntaxSh, Script: `echo "on pod worker $DYNPOOL_WORKER_ID"`},
		api.StepRequest{Name: "second", Syntax: api.SyntaxSh, Script: `echo second step ran`},
	)
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	for _, want := range []string{"on pod worker w-", "second step ran"} {
		if !logHas(lines, api.LevelInfo, want) {
			t.Errorf("log has no info line with %q:\n%s", want, dump(lines))
		}
	}
	workers, err := c.ListWorkers(t.Context(), false)
	if err != nil || len(workers) == 0 || workers[0].Provider != kubernetes.Name {
		t.Fatalf("workers = %+v, %v; want kubernetes workers", workers, err)
	}
	p := probe(t, rc, inst)
	rs, err := p.List(t.Context())
	if err != nil || len(rs) == 0 {
		t.Fatalf("pods of the installation = %+v, %v; want the worker's", rs, err)
	}
	var pod *provider.Resource
	for _, r := range rs {
		if r.WorkerID() == task.Steps[0].WorkerID {
			pod = r
		}
	}
	if pod == nil {
		t.Fatalf("no pod of worker %s among %+v", task.Steps[0].WorkerID, rs)
	}
	if got := pod.Labels[provider.LabelTenant]; got != tn.ID {
		t.Errorf("pod tenant label = %q, want %s", got, tn.ID)
	}
	if ns, _, _ := strings.Cut(pod.ID, "/"); ns != kubernetes.DefaultNamespacePrefix+inst+"-"+tn.ID {
		t.Errorf("pod %s is not in the tenant's namespace", pod.ID)
	}
}

// A server killed with its workers' pods left them; the next start
// deletes those the store does not know as live.
func TestOrphanPodDeletedAtStart(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	inst := "inst-" + strings.ToLower(rand.Text()[:10])
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "installation"), []byte(inst+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := probe(t, rc, inst)
	if _, err := p.Create(t.Context(), &provider.CreateParams{
		WorkerID: "wrk-orphan", TenantID: "ten-gone", OS: "linux", Artifact: "dynpool-test/worker:busybox",
		ServerURL: "http://127.0.0.1:1", RegistrationToken: "t",
	}); err != nil {
		t.Fatalf("leave a pod behind: %v", err)
	}
	if left, err := p.List(t.Context()); err != nil || len(left) != 1 {
		t.Fatalf("pods before the start = %d, %v; want the one left behind", len(left), err)
	}
	startServer(t, func(c *server.Config) {
		c.DataDir, c.Provider = data, kubernetes.Name
		c.Kubernetes = kubernetes.Config{REST: rc}
		advertiseLoopback(t, c)
	})
	eventually.Holds(t, "the pod left behind to be deleted", 30*time.Second, func() bool {
		left, err := p.List(t.Context())
		return err == nil && len(left) == 0
	})
}

// A pod that never runs (no node here: it stays Pending) is deleted when
// its agent does not register in time, and the worker counts no more.
func TestUnregisteredPodIsDeleted(t *testing.T) {
	t.Parallel()
	s, inst, rc := kubeServer(t, true, func(c *server.Config) {
		c.RegistrationTimeout, c.LeaseTimeout = time.Second, 3*time.Second
	})
	_, c := boxTenant(t, s)
	task, lines := runTask(t, c, api.StepRequest{Name: "never", Syntax: api.SyntaxSh, Script: "true"})
	if task.State != api.StateFailed {
		t.Fatalf("task = %s; want failed; log:\n%s", task.State, dump(lines))
	}
	p := probe(t, rc, inst)
	eventually.Holds(t, "the unregistered workers' pods to be deleted and their workers destroyed", 30*time.Second, func() bool {
		rs, err := p.List(t.Context())
		if err != nil || len(rs) != 0 {
			return false
		}
		ws, err := c.ListWorkers(t.Context(), false)
		return err == nil && len(ws) == 0
	})
	ws, err := c.ListWorkers(t.Context(), true)
	if err != nil || len(ws) == 0 || !slices.ContainsFunc(ws, func(w api.Worker) bool { return w.DestroyReason == api.DestroyRegistration }) {
		t.Errorf("workers = %+v, %v; want some destroyed for want of registration", ws, err)
	}
}

// A worker whose pod fails (here: evicted) is lost at once, through the
// provider's watch, long before the reconcile period.
func TestEvictedPodMakesWorkerLost(t *testing.T) {
	t.Parallel()
	s, inst, rc := kubeServer(t, false, func(c *server.Config) { c.ReconcilePeriod = time.Hour })
	_, c := boxTenant(t, s)
	task, lines := runTask(t, c, api.StepRequest{Name: "one", Syntax: api.SyntaxSh, Script: "true"})
	if task.State != api.StateSuccess {
		t.Fatalf("task = %s (%s); log:\n%s", task.State, task.Error, dump(lines))
	}
	wid := task.Steps[0].WorkerID
	cs, err := k8s.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := cs.CoreV1().Pods("").List(t.Context(), metav1.ListOptions{LabelSelector: provider.LabelWorker + "=" + wid})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("pods of worker %s = %v, %v; want one", wid, pods, err)
	}
	pod := &pods.Items[0]
	if pod.Labels[provider.LabelInstallation] != inst {
		t.Fatalf("pod of installation %q, want %s", pod.Labels[provider.LabelInstallation], inst)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error { // the node stand-in writes the status too
		pod, err := cs.CoreV1().Pods(pod.Namespace).Get(t.Context(), pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Status.Phase, pod.Status.Reason = corev1.PodFailed, "Evicted"
		_, err = cs.CoreV1().Pods(pod.Namespace).UpdateStatus(t.Context(), pod, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("evict the pod: %v", err)
	}
	eventually.Holds(t, "the evicted pod's worker to be lost", 30*time.Second, func() bool {
		return workerByID(t, c, wid).State == api.WorkerLost
	})
}

// advertiseLoopback has the server listen on a loopback port and advertise
// that very URL to agents, explicitly: the node stand-in runs agents as
// local processes, which do reach the loopback.
func advertiseLoopback(t *testing.T, c *server.Config) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Listener, c.AdvertiseURL = ln, "http://"+ln.Addr().String()
}

// A kubernetes server whose agents would get its own loopback URL is
// refused at start, with a message that names --advertise-url.
func TestKubernetesRefusesLoopbackAgentURL(t *testing.T) {
	t.Parallel()
	for _, listen := range []string{"127.0.0.1:0", "0.0.0.0:0"} {
		_, err := server.New(t.Context(), server.Config{
			Listen: listen, DataDir: t.TempDir(), Provider: kubernetes.Name,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err == nil || !strings.Contains(err.Error(), "--advertise-url") {
			t.Errorf("listen %s: err = %v; want a refusal naming --advertise-url", listen, err)
		}
	}
}

// Per-image kubernetes settings of an id the catalog has no image of are
// refused at start, naming the id.
func TestKubernetesRefusesUnknownImageSettings(t *testing.T) {
	t.Parallel()
	_, err := server.New(t.Context(), server.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), Provider: kubernetes.Name, AdvertiseURL: "http://dynpool.example:8080",
		Kubernetes: kubernetes.Config{Images: map[string]kubernetes.ImageConfig{"ubuntu-22.04": {}, "windwos-2022": {}}},
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err == nil || !strings.Contains(err.Error(), `"windwos-2022" is no image id of the catalog`) || strings.Contains(err.Error(), `"ubuntu-22.04"`) {
		t.Errorf("err = %v; want a refusal naming windwos-2022 only", err)
	}
}
