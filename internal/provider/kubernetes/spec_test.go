package kubernetes

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/providertest"
)

func specConfig() *Config {
	res, err := Resources("500m", "1Gi")
	if err != nil {
		panic(err)
	}
	cfg := Config{Installation: "inst-1", Resources: res, ControlPlaneNamespace: "dynpool-system",
		Images: map[string]ImageConfig{"windows-2022": {
			AgentImage:   "dynpool/agent:1-windows",
			NodeSelector: map[string]string{"pool": "win"},
			Tolerations:  []corev1.Toleration{{Key: "os", Value: "windows", Effect: corev1.TaintEffectNoSchedule}},
		}}}.withDefaults()
	return &cfg
}

func specParams() *provider.CreateParams {
	return &provider.CreateParams{WorkerID: "w-1", TenantID: "t-1", Image: "ubuntu-22.04", OS: "linux", Artifact: "registry.example/worker:1",
		ServerURL: "https://dynpool.example", ServerFingerprint: "sha256:ab", RegistrationToken: "tok"}
}

func TestPodSpec(t *testing.T) {
	t.Parallel()
	cfg, p := specConfig(), specParams()
	labels := map[string]string{provider.LabelInstallation: "inst-1", provider.LabelWorker: "w-1", provider.LabelTenant: "t-1", "note": "a b"}
	pod := podSpec(cfg, p, labels)

	if pod.Name != "worker-w-1" || pod.Namespace != "dynpool-inst-1-t-1" {
		t.Errorf("pod %s/%s, want dynpool-inst-1-t-1/worker-w-1", pod.Namespace, pod.Name)
	}
	for k, v := range map[string]string{provider.LabelInstallation: "inst-1", provider.LabelWorker: "w-1", provider.LabelTenant: "t-1", LabelManagedBy: "dynpool"} {
		if pod.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, pod.Labels[k], v)
		}
	}
	if got := pod.Labels["note"]; len(validation.IsValidLabelValue(got)) > 0 || pod.Annotations["note"] != "a b" {
		t.Errorf("label note = %q, annotation %q; want a valid label value and the real value annotated", got, pod.Annotations["note"])
	}
	if h := pod.Annotations[AnnotationTemplateHash]; len(h) != 16 {
		t.Errorf("template hash annotation = %q, want 16 hex digits", h)
	}
	s := pod.Spec
	if s.AutomountServiceAccountToken == nil || *s.AutomountServiceAccountToken || s.ServiceAccountName != ServiceAccount {
		t.Errorf("service account %q automount %v, want %s without a token", s.ServiceAccountName, s.AutomountServiceAccountToken, ServiceAccount)
	}
	if s.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restart policy %q, want Never (an ended agent is a lost worker)", s.RestartPolicy)
	}
	if s.NodeSelector[labelOS] != "linux" || len(s.NodeSelector) != 1 || len(s.Tolerations) != 0 {
		t.Errorf("node selector %v tolerations %v, want only kubernetes.io/os=linux", s.NodeSelector, s.Tolerations)
	}
	if len(s.InitContainers) != 1 || len(s.Containers) != 1 {
		t.Fatalf("%d init containers, %d containers; want 1 and 1", len(s.InitContainers), len(s.Containers))
	}
	ic, c := s.InitContainers[0], s.Containers[0]
	if ic.Image != DefaultAgentImage || !slices.Equal(ic.Command, []string{"cp", "/usr/local/bin/dynpool", "/dynpool/dynpool"}) {
		t.Errorf("init container image %q command %q", ic.Image, ic.Command)
	}
	if c.Image != p.Artifact || !slices.Equal(c.Command, []string{"/dynpool/dynpool", "agent"}) || c.WorkingDir != "/work" {
		t.Errorf("container image %q command %q dir %q", c.Image, c.Command, c.WorkingDir)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	wantEnv := map[string]string{"DYNPOOL_SERVER": "https://dynpool.example", "DYNPOOL_AGENT_TOKEN": "tok", "DYNPOOL_AGENT_WORKDIR": "/work",
		"DYNPOOL_INSTALLATION": "inst-1", "DYNPOOL_WORKER_ID": "w-1", "DYNPOOL_TENANT_ID": "t-1", "DYNPOOL_SERVER_FINGERPRINT": "sha256:ab"}
	for k, v := range wantEnv {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
	if len(env) != len(wantEnv) {
		t.Errorf("env = %v, want only %v", env, wantEnv)
	}
	if !c.Resources.Requests.Cpu().Equal(resource.MustParse("500m")) || !c.Resources.Limits.Memory().Equal(resource.MustParse("1Gi")) {
		t.Errorf("resources = %+v, want 500m CPU and 1Gi memory", c.Resources)
	}
	if m := c.VolumeMounts; len(m) != 2 || m[0].MountPath != "/dynpool" || !m[0].ReadOnly || m[1].MountPath != "/work" {
		t.Errorf("mounts = %+v, want /dynpool read-only and /work", m)
	}
	if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
		t.Error("the worker container is privileged")
	}
	for _, c := range []corev1.Container{ic, c} {
		if !isHardened(c.SecurityContext) {
			t.Errorf("container %s security context = %+v; want seccomp RuntimeDefault, no privilege escalation, all capabilities dropped", c.Name, c.SecurityContext)
		}
	}
	// The init container asks what the agent's does: a pod is Guaranteed
	// only when every container has requests equal to limits.
	if !ic.Resources.Requests.Cpu().Equal(resource.MustParse("500m")) || !ic.Resources.Limits.Memory().Equal(resource.MustParse("1Gi")) ||
		!ic.Resources.Limits.Cpu().Equal(resource.MustParse("500m")) || !ic.Resources.Requests.Memory().Equal(resource.MustParse("1Gi")) {
		t.Errorf("init container resources = %+v, want the agent's 500m CPU and 1Gi memory", ic.Resources)
	}
}

// isHardened reports whether sc is the linux worker containers' context.
func isHardened(sc *corev1.SecurityContext) bool {
	return sc != nil && sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault &&
		sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation &&
		sc.Capabilities != nil && slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"})
}

func TestPodSpecWindows(t *testing.T) {
	t.Parallel()
	cfg, p := specConfig(), specParams()
	p.OS, p.Image = "windows", "windows-2022"
	s := podSpec(cfg, p, nil).Spec
	want := map[string]string{labelOS: "windows", "pool": "win"}
	if len(s.NodeSelector) != 2 || s.NodeSelector[labelOS] != "windows" || s.NodeSelector["pool"] != "win" {
		t.Errorf("node selector = %v, want %v", s.NodeSelector, want)
	}
	if len(s.Tolerations) != 1 || s.Tolerations[0].Key != "os" {
		t.Errorf("tolerations = %v, want the image's", s.Tolerations)
	}
	if ic := s.InitContainers[0]; ic.Image != "dynpool/agent:1-windows" || ic.Command[0] != "cmd" {
		t.Errorf("windows init container image %q command %q, want the image's agent image copying with cmd", ic.Image, ic.Command)
	}
	if c := s.Containers[0]; c.Command[0] != `C:\dynpool\dynpool.exe` || c.WorkingDir != `C:\work` {
		t.Errorf("windows container command %q dir %q", c.Command, c.WorkingDir)
	}
	if s.InitContainers[0].SecurityContext != nil || s.Containers[0].SecurityContext != nil {
		t.Error("a windows pod has a linux security context")
	}
}

// The template hash is that of the pod without the worker: two workers
// of one image share it; another image, agent image or resources change it.
func TestTemplateHash(t *testing.T) {
	t.Parallel()
	cfg := specConfig()
	hash := func(cfg *Config, p *provider.CreateParams) string {
		return podSpec(cfg, p, nil).Annotations[AnnotationTemplateHash]
	}
	a, b := specParams(), specParams()
	b.WorkerID, b.TenantID, b.RegistrationToken = "w-2", "t-2", "other"
	if hash(cfg, a) != hash(cfg, b) {
		t.Errorf("two workers of one template hash differently")
	}
	c := specParams()
	c.Artifact = "registry.example/worker:2"
	other := *cfg
	other.AgentImage = "dynpool/agent:2"
	if hash(cfg, c) == hash(cfg, a) || hash(&other, a) == hash(cfg, a) {
		t.Errorf("a changed image or agent image leaves the template hash")
	}
	if first, again := hash(cfg, a), hash(cfg, specParams()); first != again {
		t.Errorf("the hash of one template changes: %s, then %s", first, again)
	}
}

func TestNetworkPolicySpec(t *testing.T) {
	t.Parallel()
	cfg := specConfig()
	np := networkPolicySpec(cfg, "t-1")
	if np.Namespace != "dynpool-inst-1-t-1" || np.Name != NetworkPolicy {
		t.Errorf("policy %s/%s", np.Namespace, np.Name)
	}
	checkPolicy(t, np, true, "dynpool-system")
	checkPolicy(t, networkPolicySpec(cfg, ""), false, "dynpool-system")
	noCP := *cfg
	noCP.ControlPlaneNamespace = ""
	checkPolicy(t, networkPolicySpec(&noCP, ""), false, "")
}

// checkPolicy checks that np selects every pod of its namespace for
// ingress and lets in its own namespace's pods (ownPods) and the control
// plane namespace's (when not ""), nothing else.
func checkPolicy(t *testing.T, np *networkingv1.NetworkPolicy, ownPods bool, controlPlane string) {
	t.Helper()
	if len(np.Spec.PodSelector.MatchLabels)+len(np.Spec.PodSelector.MatchExpressions) != 0 {
		t.Errorf("policy selects %v, want every pod", np.Spec.PodSelector)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policy types %v, want [Ingress Egress]", np.Spec.PolicyTypes)
	}
	var want []networkingv1.NetworkPolicyPeer
	if ownPods {
		want = append(want, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}})
	}
	if controlPlane != "" {
		want = append(want, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
			MatchLabels: map[string]string{"kubernetes.io/metadata.name": controlPlane}}})
	}
	var got []networkingv1.NetworkPolicyPeer
	for _, r := range np.Spec.Ingress {
		if len(r.Ports) > 0 {
			t.Errorf("ingress rule limited to ports %v", r.Ports)
		}
		got = append(got, r.From...)
	}
	if len(got) != len(want) {
		t.Fatalf("ingress from %+v, want %+v", got, want)
	}
	for i := range want {
		if w, g := want[i], got[i]; (w.PodSelector == nil) != (g.PodSelector == nil) || (w.NamespaceSelector == nil) != (g.NamespaceSelector == nil) || g.IPBlock != nil ||
			(w.NamespaceSelector != nil && w.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != g.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]) ||
			(g.PodSelector != nil && len(g.PodSelector.MatchLabels)+len(g.PodSelector.MatchExpressions) != 0) {
			t.Errorf("ingress peer %d = %+v, want %+v", i, g, w)
		}
	}
}

// Egress goes to DNS in kube-system, to the control plane, and to any
// address but the cloud metadata service's.
func TestNetworkPolicyEgress(t *testing.T) {
	t.Parallel()
	cfg := specConfig()
	cfg.ControlPlaneSelector = map[string]string{"app.kubernetes.io/name": "dynpool"}
	eg := networkPolicySpec(cfg, "t-1").Spec.Egress
	if len(eg) != 3 {
		t.Fatalf("egress = %+v, want 3 rules: DNS, anywhere but metadata, control plane", eg)
	}
	dns := eg[0]
	if len(dns.To) != 1 || dns.To[0].NamespaceSelector == nil || dns.To[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "kube-system" ||
		len(dns.Ports) != 2 || *dns.Ports[0].Protocol != corev1.ProtocolUDP || dns.Ports[0].Port.IntValue() != 53 ||
		*dns.Ports[1].Protocol != corev1.ProtocolTCP || dns.Ports[1].Port.IntValue() != 53 {
		t.Errorf("DNS rule = %+v, want kube-system on UDP and TCP 53", dns)
	}
	open := eg[1]
	if len(open.Ports) != 0 || len(open.To) != 2 || open.To[0].IPBlock == nil || open.To[0].IPBlock.CIDR != "0.0.0.0/0" ||
		!slices.Equal(open.To[0].IPBlock.Except, []string{"169.254.169.254/32"}) || open.To[1].IPBlock == nil || open.To[1].IPBlock.CIDR != "::/0" {
		t.Errorf("open rule = %+v, want 0.0.0.0/0 except 169.254.169.254/32, and ::/0", open)
	}
	cp := eg[2]
	if len(cp.To) != 1 || cp.To[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "dynpool-system" ||
		cp.To[0].PodSelector == nil || cp.To[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != "dynpool" {
		t.Errorf("control plane egress = %+v, want the dynpool pods of dynpool-system", cp)
	}
	// The ingress from the control plane is narrowed to the same pods.
	in := networkPolicySpec(cfg, "t-1").Spec.Ingress[0].From
	if len(in) != 2 || in[1].PodSelector == nil || in[1].PodSelector.MatchLabels["app.kubernetes.io/name"] != "dynpool" ||
		in[1].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "dynpool-system" {
		t.Errorf("ingress = %+v, want the tenant's pods and the dynpool pods of dynpool-system", in)
	}
	noCP := *cfg
	noCP.ControlPlaneNamespace = ""
	if eg := networkPolicySpec(&noCP, "t-1").Spec.Egress; len(eg) != 2 {
		t.Errorf("egress without a control plane = %+v, want DNS and the open rule only", eg)
	}
}

func TestNamespaceAndServiceAccountSpec(t *testing.T) {
	t.Parallel()
	cfg := specConfig()
	ns := namespaceSpec(cfg, "t-1")
	if ns.Name != "dynpool-inst-1-t-1" || ns.Labels[LabelRole] != RoleTenant || ns.Labels[provider.LabelTenant] != "t-1" || ns.Labels[provider.LabelInstallation] != "inst-1" {
		t.Errorf("tenant namespace %s labels %v", ns.Name, ns.Labels)
	}
	if ns := namespaceSpec(cfg, ""); ns.Name != "dynpool-inst-1-standby" || ns.Labels[LabelRole] != RoleStandby {
		t.Errorf("standby namespace %s labels %v", ns.Name, ns.Labels)
	}
	for _, tenant := range []string{"t-1", ""} {
		if got := namespaceSpec(cfg, tenant).Labels["pod-security.kubernetes.io/enforce"]; got != "baseline" {
			t.Errorf("namespace of tenant %q enforces pod security %q, want baseline", tenant, got)
		}
	}
	sa := serviceAccountSpec(cfg, "ns")
	if sa.Name != ServiceAccount || sa.Namespace != "ns" || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken || len(sa.Secrets) > 0 {
		t.Errorf("service account %+v, want %s without token or secrets", sa, ServiceAccount)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 80)
	for _, s := range []string{"t-1", "T_1", "a b", long, "-", "", "ünï"} {
		if got := dnsLabel(s); len(validation.IsDNS1123Label(got)) > 0 {
			t.Errorf("dnsLabel(%q) = %q, not a DNS label", s, got)
		}
		if got := labelValue(s); len(validation.IsValidLabelValue(got)) > 0 {
			t.Errorf("labelValue(%q) = %q, not a label value", s, got)
		}
	}
	if dnsLabel("t-1") != "t-1" || labelValue("T_1") != "T_1" || labelValue("") != "" {
		t.Error("a valid name or value was changed")
	}
	if dnsLabel(long) == dnsLabel(long+"y") || dnsLabel("A") == dnsLabel("a") {
		t.Error("two names made the same DNS label")
	}
	for _, tt := range []struct {
		id       string
		ns, name string
		ok       bool
	}{
		{"dynpool-i-t/worker-w-1", "dynpool-i-t", "worker-w-1", true},
		{"never-made-x", "", "", false},
		{"a/b/c", "", "", false},
		{"/x", "", "", false},
	} {
		ns, name, ok := splitResourceID(tt.id)
		if ns != tt.ns || name != tt.name || ok != tt.ok {
			t.Errorf("splitResourceID(%q) = %q, %q, %v; want %q, %q, %v", tt.id, ns, name, ok, tt.ns, tt.name, tt.ok)
		}
	}
}

func TestSupports(t *testing.T) {
	t.Parallel()
	providertest.CheckSupports(t, &Provider{cfg: *specConfig()}, "kubernetes", []providertest.SupportsCase{
		{Name: "linux", OS: "linux", Artifacts: map[string]string{"kubernetes": "img:1", "docker": "x"}},
		{Name: "windows", OS: "windows", Artifacts: map[string]string{"kubernetes": "mcr.microsoft.com/windows/servercore:ltsc2022"}},
		{Name: "other os", OS: "plan9", Artifacts: map[string]string{"kubernetes": "img:1"}, WantErr: `image os is "plan9"`},
		{Name: "no artifact", OS: "linux", Artifacts: map[string]string{"docker": "img:1"}, WantErr: `no "kubernetes" artifact`},
		{Name: "empty artifact", OS: "linux", Artifacts: map[string]string{"kubernetes": ""}, WantErr: "must be a container image reference"},
		{Name: "not an image", OS: "linux", Artifacts: map[string]string{"kubernetes": "Not An Image!"}, WantErr: "is not a container image reference"},
	})
	// With no agent image for any image, the default (linux) agent image
	// is all there is: a windows worker could never start.
	providertest.CheckSupports(t, &Provider{}, "kubernetes", []providertest.SupportsCase{
		{Name: "linux", OS: "linux", Artifacts: map[string]string{"kubernetes": "img:1"}},
		{Name: "windows, no windows agent image", OS: "windows", Artifacts: map[string]string{"kubernetes": "mcr.microsoft.com/windows/servercore:ltsc2022"},
			WantErr: "set agent_image for its image in --kube-images"},
	})
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	q := func(s string) resource.Quantity { return resource.MustParse(s) }
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"no installation", Config{}, "installation is empty"},
		{"bad installation", Config{Installation: "Inst_1"}, `installation "Inst_1" is not a DNS label`},
		{"bad prefix", Config{Installation: "i", NamespacePrefix: "Dyn_"}, `namespace prefix "Dyn_"`},
		{"bad agent image", Config{Installation: "i", AgentImage: "Bad Image"}, `agent image "Bad Image"`},
		{"bad control plane", Config{Installation: "i", ControlPlaneNamespace: "A B"}, `control plane namespace "A B"`},
		{"request above limit", Config{Installation: "i", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: q("2")}, Limits: corev1.ResourceList{corev1.ResourceCPU: q("1")}}}, "cpu request 2 is above its limit 1"},
		{"negative memory", Config{Installation: "i", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{corev1.ResourceMemory: q("-1Gi")}}}, "memory limit -1Gi is negative"},
		{"bad image agent image", Config{Installation: "i", Images: map[string]ImageConfig{"w": {AgentImage: "No Good"}}}, `image w: agent image "No Good"`},
		{"bad node selector", Config{Installation: "i", Images: map[string]ImageConfig{"w": {NodeSelector: map[string]string{"a b": "c"}}}}, "image w: node selector a b=c"},
		{"no kubeconfig", Config{Installation: "i", Kubeconfig: "/nonexistent/kubeconfig"}, "load kubeconfig"},
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

func TestResources(t *testing.T) {
	t.Parallel()
	r, err := Resources("250m", "")
	if err != nil || !r.Requests.Cpu().Equal(resource.MustParse("250m")) || !r.Limits.Cpu().Equal(resource.MustParse("250m")) || len(r.Requests) != 1 {
		t.Errorf("Resources(250m, \"\") = %+v, %v; want 250m CPU requested and limited only", r, err)
	}
	if _, err := Resources("", "lots"); err == nil || !strings.Contains(err.Error(), `memory "lots"`) {
		t.Errorf("Resources with memory \"lots\" = %v, want an error naming it", err)
	}
}

// An image's cpu replaces the global cpu and keeps the global memory.
func TestPodSpecImageResourcesMerge(t *testing.T) {
	t.Parallel()
	cfg, p := specConfig(), specParams()
	cpu, err := Resources("2", "")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Images = map[string]ImageConfig{p.Image: {Resources: &cpu}}
	s := podSpec(cfg, p, nil).Spec
	for _, c := range []corev1.Container{s.InitContainers[0], s.Containers[0]} {
		r := c.Resources
		if !r.Requests.Cpu().Equal(resource.MustParse("2")) || !r.Limits.Cpu().Equal(resource.MustParse("2")) ||
			!r.Requests.Memory().Equal(resource.MustParse("1Gi")) || !r.Limits.Memory().Equal(resource.MustParse("1Gi")) {
			t.Errorf("container %s resources = %+v, want the image's 2 CPU and the global 1Gi memory", c.Name, r)
		}
	}
	if got := cfg.Resources.Requests.Cpu(); !got.Equal(resource.MustParse("500m")) {
		t.Errorf("the global cpu became %s", got)
	}
}

// The default agent image is of the server's version when that is a
// release, else latest.
func TestAgentImageFor(t *testing.T) {
	t.Parallel()
	for version, want := range map[string]string{
		"v1.4.0":                             "dynpool/agent:v1.4.0",
		"v1.4.0-rc.1":                        "dynpool/agent:latest",
		"v0.0.0-20261130054500-3f2c1a9e0b7d": "dynpool/agent:latest",
		"devel+3f2c1a9e0b7d+dirty":           "dynpool/agent:latest",
		"devel":                              "dynpool/agent:latest",
	} {
		if got := agentImageFor(version); got != want {
			t.Errorf("agentImageFor(%q) = %q, want %q", version, got, want)
		}
	}
}
