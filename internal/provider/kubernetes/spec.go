package kubernetes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// Names, paths and keys of what the provider makes.
const (
	// ServiceAccount is the service account of every worker pod, made in
	// each namespace with no token mounted and bound to no role: the
	// worker has no rights on the API.
	ServiceAccount = "dynpool-worker"
	// NetworkPolicy is the policy of each namespace the provider makes.
	NetworkPolicy = "dynpool-isolation"
	// AgentContainer is the main container of a worker pod: the artifact
	// image running `dynpool agent`. AgentInstallContainer is the init
	// container that copies the agent binary in.
	AgentContainer        = "agent"
	AgentInstallContainer = "install-agent"
	// AgentImageBinary is where Config.AgentImage holds the static linux
	// dynpool binary.
	AgentImageBinary = "/usr/local/bin/dynpool"
	// AgentDir holds the copied binary in a linux worker, AgentPath is the
	// binary run as `dynpool agent`; WorkDir is the agent's work
	// directory (DYNPOOL_AGENT_WORKDIR), an emptyDir of the pod.
	AgentDir  = "/dynpool"
	AgentPath = AgentDir + "/dynpool"
	WorkDir   = "/work"
	// The windows counterparts: the agent image of a windows worker holds
	// C:\dynpool-image\dynpool.exe.
	windowsAgentImageBinary = `C:\dynpool-image\dynpool.exe`
	windowsAgentDir         = `C:\dynpool`
	windowsAgentPath        = windowsAgentDir + `\dynpool.exe`
	windowsWorkDir          = `C:\work`

	// LabelManagedBy is the well-known label naming the tool that manages
	// an object; its value is ManagedBy.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedBy      = "dynpool"
	// LabelRole says what a namespace is for: RoleTenant or RoleStandby.
	LabelRole   = "dynpool.io/role"
	RoleTenant  = "tenant"
	RoleStandby = "standby"
	// AnnotationTemplateHash holds the hash of a worker pod's template:
	// the pod without what is particular to one worker (its ids, labels
	// and registration token). It is informational, for operators: nothing
	// reads it, and a changed template applies to new pods only.
	AnnotationTemplateHash = "dynpool.io/pod-template-hash"
	// labelPodSecurityEnforce is the Pod Security admission label that
	// sets the level a namespace's pods must meet; worker namespaces
	// enforce "baseline" (no host namespaces, no privileged containers).
	labelPodSecurityEnforce = "pod-security.kubernetes.io/enforce"
	// labelOS is the well-known node label of a node's operating system.
	labelOS = "kubernetes.io/os"
	// labelNamespaceName is the label every namespace carries with its
	// own name (Kubernetes 1.21 and later).
	labelNamespaceName = "kubernetes.io/metadata.name"
)

// terminationGrace is how long a worker's agent has between SIGTERM and
// SIGKILL when its pod is deleted: longer than the agent's own grace for
// its script (agent.ScriptKillGrace, 5 s), as in the other providers.
const terminationGrace = 10

// resourceLabels are the labels List rebuilds from a pod.
var resourceLabels = []string{provider.LabelInstallation, provider.LabelWorker, provider.LabelTenant}

// objectMeta returns the name, namespace, labels and annotations of an
// object labelled with labels: each value is made a valid label value,
// and the real ones are kept in annotations of the same keys.
func objectMeta(name, namespace string, labels map[string]string) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: name, Namespace: namespace,
		Labels: map[string]string{LabelManagedBy: ManagedBy}, Annotations: make(map[string]string)}
	for k, v := range labels {
		m.Labels[k] = labelValue(v)
		m.Annotations[k] = v
	}
	return m
}

// podSpec returns the pod of a worker: a pure function of the provider's
// config, the worker's parameters and its labels. The template part
// (everything but the worker's ids, labels and token) is hashed into
// AnnotationTemplateHash.
func podSpec(cfg *Config, p *provider.CreateParams, labels map[string]string) *corev1.Pod {
	pod := podTemplate(cfg, p)
	pod.Annotations = map[string]string{AnnotationTemplateHash: templateHash(pod)}
	meta := objectMeta(podName(p.WorkerID), cfg.namespaceName(p.TenantID), labels)
	pod.Name, pod.Namespace, pod.Labels = meta.Name, meta.Namespace, meta.Labels
	maps.Copy(pod.Annotations, meta.Annotations)
	c := &pod.Spec.Containers[0]
	c.Env = append(c.Env,
		corev1.EnvVar{Name: provider.EnvAgentToken, Value: p.RegistrationToken},
		corev1.EnvVar{Name: provider.EnvInstallation, Value: cfg.Installation},
		corev1.EnvVar{Name: provider.EnvWorkerID, Value: p.WorkerID},
		corev1.EnvVar{Name: provider.EnvTenantID, Value: p.TenantID},
	)
	return pod
}

// podTemplate returns the worker pod without what is particular to one
// worker.
func podTemplate(cfg *Config, p *provider.CreateParams) *corev1.Pod {
	img := cfg.Images[p.Image]
	agentBinary, agentDir, agentPath, workDir := AgentImageBinary, AgentDir, AgentPath, WorkDir
	install := []string{"cp", agentBinary, agentPath}
	if p.OS == "windows" {
		agentBinary, agentDir, agentPath, workDir = windowsAgentImageBinary, windowsAgentDir, windowsAgentPath, windowsWorkDir
		install = []string{"cmd", "/c", "copy", agentBinary, agentPath}
	}
	selector := map[string]string{labelOS: osOrLinux(p.OS)}
	maps.Copy(selector, img.NodeSelector)
	agentImage := cfg.AgentImage
	if img.AgentImage != "" {
		agentImage = img.AgentImage
	}
	resources := mergeResources(cfg.Resources, img.Resources)
	noToken, grace := false, int64(terminationGrace)
	agentVolume := []corev1.VolumeMount{{Name: "agent", MountPath: agentDir}}
	pod := &corev1.Pod{
		Spec: corev1.PodSpec{
			ServiceAccountName:            ServiceAccount,
			AutomountServiceAccountToken:  &noToken,
			EnableServiceLinks:            &noToken,
			RestartPolicy:                 corev1.RestartPolicyNever,
			TerminationGracePeriodSeconds: &grace,
			NodeSelector:                  selector,
			Tolerations:                   img.Tolerations,
			Volumes: []corev1.Volume{
				{Name: "agent", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
			InitContainers: []corev1.Container{{
				Name:         AgentInstallContainer,
				Image:        agentImage,
				Command:      install,
				Resources:    *resources.DeepCopy(), // as the agent's: Guaranteed QoS needs both
				VolumeMounts: agentVolume,
			}},
			Containers: []corev1.Container{{
				Name:       AgentContainer,
				Image:      p.Artifact,
				Command:    []string{agentPath, "agent"},
				WorkingDir: workDir,
				Env: []corev1.EnvVar{
					{Name: provider.EnvServer, Value: p.ServerURL},
					{Name: provider.EnvAgentWorkDir, Value: workDir},
					{Name: tlspin.EnvFingerprint, Value: p.ServerFingerprint},
				},
				Resources: resources,
				VolumeMounts: []corev1.VolumeMount{
					{Name: "agent", MountPath: agentDir, ReadOnly: true},
					{Name: "work", MountPath: workDir},
				},
			}},
		},
	}
	if p.OS != "windows" { // a windows pod takes none of these linux settings
		pod.Spec.InitContainers[0].SecurityContext = hardened()
		pod.Spec.Containers[0].SecurityContext = hardened()
	}
	return pod
}

// hardened returns the security context of a linux worker's containers:
// the runtime's default seccomp profile, no privilege escalation, no
// capabilities. Steps run as the image's user; what they need beyond
// that (e.g. binding a port below 1024) they do not get.
func hardened() *corev1.SecurityContext {
	no := false
	return &corev1.SecurityContext{
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		AllowPrivilegeEscalation: &no,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// mergeResources returns base with each request and limit that over
// sets replaced, resource by resource: an image's cpu leaves the global
// memory as it is.
func mergeResources(base corev1.ResourceRequirements, over *corev1.ResourceRequirements) corev1.ResourceRequirements {
	r := *base.DeepCopy()
	if over == nil {
		return r
	}
	if len(over.Requests) > 0 && r.Requests == nil {
		r.Requests = corev1.ResourceList{}
	}
	if len(over.Limits) > 0 && r.Limits == nil {
		r.Limits = corev1.ResourceList{}
	}
	for name, q := range over.Requests {
		r.Requests[name] = q.DeepCopy()
	}
	for name, q := range over.Limits {
		r.Limits[name] = q.DeepCopy()
	}
	return r
}

// osOrLinux returns os, or "linux" for "" (an image of no stated OS).
func osOrLinux(os string) string {
	if os == "" {
		return "linux"
	}
	return os
}

// templateHash returns the first 16 hex digits of the SHA-256 of pod's
// JSON form.
func templateHash(pod *corev1.Pod) string {
	b, err := json.Marshal(pod)
	if err != nil {
		panic("marshal pod template: " + err.Error()) // a Pod always marshals
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])[:16]
}

// namespaceSpec returns the namespace of tenant ("" for standby workers),
// labelled with the installation and tenant, its role, and the Pod
// Security level "baseline" enforced.
func namespaceSpec(cfg *Config, tenant string) *corev1.Namespace {
	role := RoleTenant
	if tenant == "" {
		role = RoleStandby
	}
	meta := objectMeta(cfg.namespaceName(tenant), "", map[string]string{
		provider.LabelInstallation: cfg.Installation,
		provider.LabelTenant:       tenant,
	})
	meta.Labels[LabelRole] = role
	meta.Labels[labelPodSecurityEnforce] = "baseline"
	return &corev1.Namespace{ObjectMeta: meta}
}

// serviceAccountSpec returns the worker service account of namespace:
// no token mounted, no secrets, bound to no role.
func serviceAccountSpec(cfg *Config, namespace string) *corev1.ServiceAccount {
	noToken := false
	return &corev1.ServiceAccount{
		ObjectMeta:                   objectMeta(ServiceAccount, namespace, map[string]string{provider.LabelInstallation: cfg.Installation}),
		AutomountServiceAccountToken: &noToken,
	}
}

// networkPolicySpec returns the policy of tenant's namespace ("" for the
// standby namespace). It selects every pod of the namespace.
//
// Ingress: only the control plane's pods (when there is a control plane
// namespace; narrowed to Config.ControlPlaneSelector when set) and, in a
// tenant's namespace, the tenant's own pods: nothing from other tenants'
// namespaces. A standby namespace lets in no pod of its own either,
// because its workers are bound to different tenants where they stand (a
// pod cannot change namespace).
//
// Egress: DNS in kube-system (UDP and TCP 53), the control plane, and any
// address but the cloud metadata service (169.254.169.254, and
// fd00:ec2::254 on IPv6): agents reach the server, steps reach what they
// deploy to. Services inside the cluster stay reachable; see
// docs/kubernetes.md.
func networkPolicySpec(cfg *Config, tenant string) *networkingv1.NetworkPolicy {
	namespace := cfg.namespaceName(tenant)
	var from []networkingv1.NetworkPolicyPeer
	if tenant != "" {
		from = append(from, networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{}})
	}
	controlPlane := controlPlanePeer(cfg)
	if controlPlane != nil {
		from = append(from, *controlPlane)
	}
	var ingress []networkingv1.NetworkPolicyIngressRule
	if len(from) > 0 {
		ingress = []networkingv1.NetworkPolicyIngressRule{{From: from}}
	}
	udp, tcp, dns := corev1.ProtocolUDP, corev1.ProtocolTCP, intstr.FromInt32(53)
	egress := []networkingv1.NetworkPolicyEgressRule{
		{
			To: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{labelNamespaceName: "kube-system"}}}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &dns}, {Protocol: &tcp, Port: &dns}},
		},
		{To: []networkingv1.NetworkPolicyPeer{
			{IPBlock: &networkingv1.IPBlock{CIDR: "0.0.0.0/0", Except: []string{CloudMetadataCIDR}}},
			{IPBlock: &networkingv1.IPBlock{CIDR: "::/0", Except: []string{CloudMetadataCIDR6}}},
		}},
	}
	if controlPlane != nil {
		egress = append(egress, networkingv1.NetworkPolicyEgressRule{To: []networkingv1.NetworkPolicyPeer{*controlPlane}})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: objectMeta(NetworkPolicy, namespace, map[string]string{
			provider.LabelInstallation: cfg.Installation,
			provider.LabelTenant:       tenant,
		}),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress:     ingress,
			Egress:      egress,
		},
	}
}

// The cloud metadata service's addresses, which no worker may reach (it
// hands out the node's cloud credentials): 169.254.169.254 on AWS, GCP
// and Azure, fd00:ec2::254 on AWS over IPv6.
const (
	CloudMetadataCIDR  = "169.254.169.254/32"
	CloudMetadataCIDR6 = "fd00:ec2::254/128"
)

// controlPlanePeer returns the pods of the control plane, or nil when
// there is no control plane namespace.
func controlPlanePeer(cfg *Config) *networkingv1.NetworkPolicyPeer {
	if cfg.ControlPlaneNamespace == "" {
		return nil
	}
	peer := &networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
		MatchLabels: map[string]string{labelNamespaceName: cfg.ControlPlaneNamespace},
	}}
	if len(cfg.ControlPlaneSelector) > 0 {
		peer.PodSelector = &metav1.LabelSelector{MatchLabels: maps.Clone(cfg.ControlPlaneSelector)}
	}
	return peer
}
