package kubernetes

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/kubernetes/kubetest"
	"github.com/dynpool/dynpool/internal/provider/providertest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// testImage is the artifact of the tests' workers. No kubelet pulls it:
// pods stay Pending, or a kubetest.Node runs their agent as a process.
const testImage = "dynpool-test/worker:busybox"

// newTestProvider returns a provider of installation on the API server rc
// points at.
func newTestProvider(t *testing.T, rc *rest.Config, installation string, edit ...func(*Config)) *Provider {
	t.Helper()
	cfg := Config{Installation: installation, REST: rc, ControlPlaneNamespace: "dynpool-system"}
	for _, e := range edit {
		e(&cfg)
	}
	p, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// TestConformance runs the provider conformance suite against a real API
// server. Pods stay Pending (no node runs them), which the suite's
// stand-in agent needs no more than: a live resource. The broken Create
// names an artifact that is no image reference.
func TestConformance(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	providertest.Run(t, providertest.Harness{
		New: func(t *testing.T, installation string) provider.Provider {
			return newTestProvider(t, rc, installation)
		},
		Agent: func(*testing.T) (string, string) { return "linux", testImage },
		Broken: func(t *testing.T, installation string) (provider.Provider, string, string) {
			return newTestProvider(t, rc, installation), "linux", "Not An Image!"
		},
	})
}

// create creates worker of tenant with p and destroys it when the test ends.
func create(t *testing.T, p *Provider, worker, tenant string) *provider.Resource {
	t.Helper()
	r, err := p.Create(t.Context(), &provider.CreateParams{
		WorkerID: worker, TenantID: tenant, Image: "busybox", OS: "linux", Artifact: testImage,
		ServerURL: "http://127.0.0.1:1", RegistrationToken: "reg-" + worker,
		Labels: map[string]string{provider.LabelInstallation: p.cfg.Installation, provider.LabelWorker: worker, provider.LabelTenant: tenant},
	})
	if err != nil {
		t.Fatalf("Create %s: %v", worker, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Destroy(ctx, r.ID); err != nil {
			t.Errorf("Destroy %s: %v", r.ID, err)
		}
	})
	return r
}

// getPod returns the pod of resource r.
func getPod(t *testing.T, p *Provider, r *provider.Resource) *corev1.Pod {
	t.Helper()
	ns, name, ok := splitResourceID(r.ID)
	if !ok {
		t.Fatalf("resource id %q is no <namespace>/<name>", r.ID)
	}
	pod, err := p.client.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get pod %s: %v", r.ID, err)
	}
	return pod
}

// Two tenants' workers land in namespaces of their own, each with the
// worker service account (no token) and a NetworkPolicy that lets in the
// tenant's own pods and the control plane's namespace only.
func TestTenantsGetNamespacesWithPolicy(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	pods := map[string]*corev1.Pod{}
	for _, tenant := range []string{"t-a", "t-b"} {
		pods[tenant] = getPod(t, p, create(t, p, "w-"+tenant, tenant))
	}
	if pods["t-a"].Namespace == pods["t-b"].Namespace {
		t.Fatalf("both tenants' pods are in namespace %s", pods["t-a"].Namespace)
	}
	for tenant, pod := range pods {
		want := p.cfg.namespaceName(tenant)
		if pod.Namespace != want {
			t.Errorf("tenant %s's pod is in namespace %s, want %s", tenant, pod.Namespace, want)
		}
		ns, err := p.client.CoreV1().Namespaces().Get(t.Context(), pod.Namespace, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get namespace: %v", err)
		}
		if ns.Labels[provider.LabelTenant] != tenant || ns.Labels[provider.LabelInstallation] != p.cfg.Installation || ns.Labels[LabelRole] != RoleTenant {
			t.Errorf("namespace %s labels %v", ns.Name, ns.Labels)
		}
		np, err := p.client.NetworkingV1().NetworkPolicies(pod.Namespace).Get(t.Context(), NetworkPolicy, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("tenant %s's namespace has no network policy: %v", tenant, err)
		}
		checkPolicy(t, np, true, "dynpool-system")
		sa, err := p.client.CoreV1().ServiceAccounts(pod.Namespace).Get(t.Context(), ServiceAccount, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("tenant %s's namespace has no worker service account: %v", tenant, err)
		}
		if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
			t.Errorf("service account %s/%s mounts a token", sa.Namespace, sa.Name)
		}
		s := pod.Spec
		if s.ServiceAccountName != ServiceAccount || s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken {
			t.Errorf("pod %s/%s service account %q automount %v", pod.Namespace, pod.Name, s.ServiceAccountName, s.AutomountServiceAccountToken)
		}
		for _, v := range s.Volumes {
			if v.Projected != nil || v.Secret != nil {
				t.Errorf("pod %s/%s has a token or secret volume %s", pod.Namespace, pod.Name, v.Name)
			}
		}
		if pod.Annotations[AnnotationTemplateHash] == "" {
			t.Errorf("pod %s/%s has no template hash", pod.Namespace, pod.Name)
		}
	}
	if pods["t-a"].Annotations[AnnotationTemplateHash] != pods["t-b"].Annotations[AnnotationTemplateHash] {
		t.Errorf("two workers of one image and config have different template hashes")
	}
}

// A standby worker is made in the standby namespace, whose policy lets in
// the control plane only; Bind labels it with its tenant, once.
func TestStandbyWorkerIsBoundWhereItIs(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	r := create(t, p, "w-standby", "")
	pod := getPod(t, p, r)
	if pod.Namespace != p.cfg.namespaceName("") {
		t.Fatalf("standby pod in namespace %s, want %s", pod.Namespace, p.cfg.namespaceName(""))
	}
	np, err := p.client.NetworkingV1().NetworkPolicies(pod.Namespace).Get(t.Context(), NetworkPolicy, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("standby namespace has no network policy: %v", err)
	}
	checkPolicy(t, np, false, "dynpool-system")
	if err := p.Bind(t.Context(), r.ID, "t-1"); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	if got := getPod(t, p, r); got.Labels[provider.LabelTenant] != "t-1" || got.Annotations[provider.LabelTenant] != "t-1" {
		t.Errorf("bound pod tenant label %q annotation %q, want t-1", got.Labels[provider.LabelTenant], got.Annotations[provider.LabelTenant])
	}
	rs, err := p.List(t.Context())
	if err != nil || len(rs) != 1 || rs[0].Labels[provider.LabelTenant] != "t-1" {
		t.Errorf("List after Bind = %+v, %v; want the worker of tenant t-1", rs, err)
	}
	if err := p.Bind(t.Context(), r.ID, "t-2"); err == nil {
		t.Error("Bind to a second tenant succeeded")
	}
	tenantPod := create(t, p, "w-tenant", "t-1")
	if err := p.Bind(t.Context(), tenantPod.ID, "t-1"); err == nil {
		t.Error("Bind of a tenant namespace's pod succeeded")
	}
}

// A pod whose agent ended (phase Failed or Succeeded: evicted, or its
// process exited) is listed Stopped, so the fleet marks its worker lost;
// a Pending one is not.
func TestEndedPodIsListedStopped(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	pending := create(t, p, "w-pending", "t-1")
	ended := create(t, p, "w-ended", "t-1")
	pod := getPod(t, p, ended)
	pod.Status.Phase, pod.Status.Reason = corev1.PodFailed, "Evicted"
	if _, err := p.client.CoreV1().Pods(pod.Namespace).UpdateStatus(t.Context(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("mark the pod evicted: %v", err)
	}
	rs, err := p.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	stopped := map[string]bool{}
	for _, r := range rs {
		stopped[r.ID] = r.Stopped
	}
	if len(rs) != 2 || stopped[pending.ID] || !stopped[ended.ID] {
		t.Errorf("List = %+v; want %s live and %s stopped", rs, pending.ID, ended.ID)
	}
}

// A pod the provider did not make for its installation is neither listed
// nor destroyed, though it carries the installation label.
func TestForeignPodUntouched(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	ns := kubetest.Namespace(t, rc, "foreign")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "lookalike", Namespace: ns,
			Labels:      map[string]string{provider.LabelInstallation: p.cfg.Installation, LabelManagedBy: ManagedBy},
			Annotations: map[string]string{provider.LabelInstallation: "someone-else"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: testImage}}},
	}
	if _, err := p.client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	if rs, err := p.List(t.Context()); err != nil || len(rs) != 0 {
		t.Errorf("List = %+v, %v; want nothing", rs, err)
	}
	if err := p.Destroy(t.Context(), resourceID(ns, "lookalike")); err == nil {
		t.Error("Destroy of another installation's pod succeeded")
	}
	if _, err := p.client.CoreV1().Pods(ns).Get(t.Context(), "lookalike", metav1.GetOptions{}); err != nil {
		t.Errorf("the foreign pod is gone: %v", err)
	}
}

// What the API server refuses is an error that keeps its message, and
// leaves nothing listed.
func TestCreateForbidden(t *testing.T) {
	t.Parallel()
	rc := rest.CopyConfig(kubetest.Shared(t))
	rc.Impersonate = rest.ImpersonationConfig{UserName: "nobody"}
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	_, err := p.Create(t.Context(), &provider.CreateParams{WorkerID: "w-1", TenantID: "t-1", OS: "linux", Artifact: testImage})
	if err == nil || !containsAll(err.Error(), "create worker w-1", "forbidden", `"nobody"`) {
		t.Errorf("Create as a user of no rights = %v, want a forbidden error naming the user", err)
	}
	if _, err := p.List(t.Context()); err == nil {
		t.Error("List as a user of no rights succeeded")
	}
}

// An API server that does not answer fails New, and a provider whose API
// server went away fails Create, List and Destroy, each saying what it
// did.
func TestAPIServerUnreachable(t *testing.T) {
	t.Parallel()
	rc := &rest.Config{Host: "https://127.0.0.1:1", Timeout: 5 * time.Second}
	if _, err := New(t.Context(), Config{Installation: "i", REST: rc}); err == nil || !containsAll(err.Error(), "API server at https://127.0.0.1:1 does not answer") {
		t.Errorf("New = %v, want an error saying the API server does not answer", err)
	}
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := New(canceled, Config{Installation: "i", REST: rc}); err == nil || !containsAll(err.Error(), "context canceled") {
		t.Errorf("New with a canceled context = %v, want it canceled", err)
	}
	p, err := newProvider(Config{Installation: "i", REST: rc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Create(t.Context(), &provider.CreateParams{WorkerID: "w-1", TenantID: "t-1", OS: "linux", Artifact: testImage}); err == nil ||
		!containsAll(err.Error(), "create worker w-1: create namespace dynpool-i-t-1", "connection refused") {
		t.Errorf("Create = %v, want a connection error", err)
	}
	if _, err := p.List(t.Context()); err == nil || !containsAll(err.Error(), "list workers", "connection refused") {
		t.Errorf("List = %v, want a connection error", err)
	}
	if err := p.Destroy(t.Context(), "dynpool-i-t-1/worker-w-1"); err == nil || !containsAll(err.Error(), "destroy worker pod", "connection refused") {
		t.Errorf("Destroy = %v, want a connection error", err)
	}
}

// Create refuses what no pod can be made of before asking the API server.
func TestCreateRefusesBadParams(t *testing.T) {
	t.Parallel()
	p, err := newProvider(Config{Installation: "i", REST: &rest.Config{Host: "https://127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cp   provider.CreateParams
		want string
	}{
		{"no worker", provider.CreateParams{Artifact: testImage}, "worker id is empty"},
		{"no artifact", provider.CreateParams{WorkerID: "w"}, `"kubernetes" artifact is empty`},
		{"bad artifact", provider.CreateParams{WorkerID: "w", Artifact: "Not An Image!"}, "is not a container image reference"},
		{"bad os", provider.CreateParams{WorkerID: "w", OS: "plan9", Artifact: testImage}, `image os is "plan9"`},
		{"windows, linux agent image", provider.CreateParams{WorkerID: "w", OS: "windows", Image: "windows-2022", Artifact: testImage},
			"image windows-2022: provider cannot make this image: a windows worker needs a windows agent image: set agent_image for its image in --kube-images"},
	} {
		if _, err := p.Create(t.Context(), &tt.cp); err == nil || !containsAll(err.Error(), tt.want) {
			t.Errorf("%s: Create = %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
	if err := p.Destroy(t.Context(), ""); err == nil {
		t.Error("Destroy of an empty id succeeded")
	}
}

// The provider works with the rights docs/kubernetes-rbac.yaml grants,
// and no more: the test binds that role to a user of its own and acts as
// that user.
func TestDocumentedRoleSuffices(t *testing.T) {
	t.Parallel()
	admin := kubetest.Shared(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "kubernetes-rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(b, &role); err != nil {
		t.Fatalf("docs/kubernetes-rbac.yaml: %v", err)
	}
	user := "dynpool-" + randomSuffix()
	role.Name = user
	p := newTestProvider(t, admin, "inst-"+randomSuffix())
	rbac := p.client.RbacV1()
	if _, err := rbac.ClusterRoles().Create(t.Context(), &role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create role: %v", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: user},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if _, err := rbac.ClusterRoleBindings().Create(t.Context(), binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("bind role: %v", err)
	}
	rc := rest.CopyConfig(admin)
	rc.Impersonate = rest.ImpersonationConfig{UserName: user}
	limited := newTestProvider(t, rc, p.cfg.Installation)
	var r *provider.Resource
	// RBAC takes a moment to see a new binding.
	eventually.Holds(t, "the role to let the user create a worker", 30*time.Second, func() bool {
		r, err = limited.Create(t.Context(), &provider.CreateParams{WorkerID: "w-1", OS: "linux", Artifact: testImage,
			Labels: map[string]string{provider.LabelInstallation: p.cfg.Installation, provider.LabelWorker: "w-1"}})
		return err == nil
	})
	if rs, err := limited.List(t.Context()); err != nil || len(rs) != 1 {
		t.Errorf("List = %+v, %v; want the worker", rs, err)
	}
	if err := limited.Bind(t.Context(), r.ID, "t-1"); err != nil {
		t.Errorf("Bind: %v", err)
	}
	// A second provider makes sure of the namespace again: the policy
	// exists, and is updated.
	again := newTestProvider(t, rc, p.cfg.Installation)
	r2, err := again.Create(t.Context(), &provider.CreateParams{WorkerID: "w-2", OS: "linux", Artifact: testImage})
	if err != nil {
		t.Errorf("Create by a second provider: %v", err)
	}
	for _, res := range []*provider.Resource{r, r2} {
		if res == nil {
			continue
		}
		if err := limited.Destroy(t.Context(), res.ID); err != nil {
			t.Errorf("Destroy %s: %v", res.ID, err)
		}
	}
	if rs, err := limited.List(t.Context()); err != nil || len(rs) != 0 {
		t.Errorf("List after Destroy = %+v, %v; want nothing", rs, err)
	}
}

// Watch tells of a pod that ended and of one deleted, not of one created.
func TestWatchTellsOfEndedPods(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	evict := func(r *provider.Resource) {
		t.Helper()
		pod := getPod(t, p, r)
		pod.Status.Phase, pod.Status.Reason = corev1.PodFailed, "Evicted"
		if _, err := p.client.CoreV1().Pods(pod.Namespace).UpdateStatus(t.Context(), pod, metav1.UpdateOptions{}); err != nil {
			t.Fatalf("mark the pod evicted: %v", err)
		}
	}
	// A pod that ended before the watch starts: a watch begins with the
	// pods that exist, so its telling of this one says it is connected.
	evict(create(t, p, "w-0", "t-1"))
	changes := make(chan struct{}, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Watch(ctx, func() { changes <- struct{}{} })
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-changes:
	case <-time.After(30 * time.Second):
		t.Fatal("Watch told of no change for the pod that ended before it started")
	}
	r := create(t, p, "w-1", "t-1")
	select {
	case <-changes:
		t.Fatal("Watch told of a change for a pod created")
	case <-time.After(500 * time.Millisecond):
	}
	evict(r)
	select {
	case <-changes:
	case <-time.After(30 * time.Second):
		t.Fatal("Watch told of no change after the pod was evicted")
	}
	if err := p.Destroy(t.Context(), r.ID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
	case <-time.After(30 * time.Second):
		t.Fatal("Watch told of no change after the pod was deleted")
	}
}
