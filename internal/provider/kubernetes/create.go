package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dynpool/dynpool/internal/provider"
)

// Create makes sure the tenant's namespace exists with its service
// account and NetworkPolicy (the standby namespace for a TenantID of ""),
// then creates the worker's pod in it (see [podSpec]). Its labels are
// params.Labels with provider.LabelInstallation, provider.LabelWorker and
// provider.LabelTenant set from the provider and params, so List always
// finds it. The resource's ID is "<namespace>/<pod name>".
//
// An artifact that is no image reference is an error that says so, as is
// a second Create of the same worker (the pod exists) and anything the API
// server refuses (its message is kept). Create returns once the API server
// stored the pod: pulling its images and starting it is the kubelet's.
func (p *Provider) Create(ctx context.Context, params *provider.CreateParams) (*provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	if err := checkParams(params); err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	if params.OS == "windows" && p.cfg.Images[params.Image].AgentImage == "" {
		return nil, fmt.Errorf("create worker %s: image %s: %w: %s", params.WorkerID, params.Image, provider.ErrUnsupported, errNoWindowsAgent)
	}
	labels := provider.ResourceLabels(params, p.cfg.Installation)
	pod := podSpec(&p.cfg, params, labels)
	got, err := p.createPod(ctx, params.TenantID, pod)
	if err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	p.cfg.Logger.InfoContext(ctx, "worker pod created", "worker_id", params.WorkerID, "tenant_id", params.TenantID,
		"namespace", got.Namespace, "pod", got.Name, "image", params.Artifact, "template_hash", got.Annotations[AnnotationTemplateHash])
	return &provider.Resource{ID: resourceID(got.Namespace, got.Name), Labels: labels}, nil
}

// createPod creates pod in tenant's namespace, which it makes first
// unless this provider made it already. Any failed pod creation (but for
// a pod that exists) forgets the namespace, so the next Create makes sure
// of it, its service account and its policy again: one of them may have
// been deleted meanwhile. A namespace removed since (the pod's namespace
// is not found) is made again at once.
func (p *Provider) createPod(ctx context.Context, tenant string, pod *corev1.Pod) (*corev1.Pod, error) {
	for attempt := 0; ; attempt++ {
		if err := p.namespaceReady(ctx, tenant, pod.Namespace); err != nil {
			return nil, err
		}
		got, err := p.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			p.forgetNamespace(pod.Namespace)
		}
		switch {
		case apierrors.IsNotFound(err) && attempt == 0:
			continue
		case apierrors.IsAlreadyExists(err):
			return nil, fmt.Errorf("pod %s/%s exists already: %w", pod.Namespace, pod.Name, err)
		case err != nil:
			return nil, fmt.Errorf("create pod %s/%s of image %q: %w", pod.Namespace, pod.Name, pod.Spec.Containers[0].Image, err)
		}
		return got, nil
	}
}

// nsState is what the provider knows of one namespace: whether it made
// sure of it, under mu, which Creates in that namespace wait on.
type nsState struct {
	mu    sync.Mutex
	ready bool
}

// namespace returns the state of namespace, made on first use.
func (p *Provider) namespace(namespace string) *nsState {
	p.nsMu.Lock()
	defer p.nsMu.Unlock()
	st := p.namespaces[namespace]
	if st == nil {
		st = &nsState{}
		p.namespaces[namespace] = st
	}
	return st
}

// forgetNamespace has the next Create in namespace make sure of it again.
func (p *Provider) forgetNamespace(namespace string) {
	st := p.namespace(namespace)
	st.mu.Lock()
	st.ready = false
	st.mu.Unlock()
}

// namespaceReady makes sure of tenant's namespace (named namespace) once
// per provider until forgotten; concurrent Creates in that namespace wait
// for the first, Creates in others do not.
func (p *Provider) namespaceReady(ctx context.Context, tenant, namespace string) error {
	st := p.namespace(namespace)
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ready {
		return nil
	}
	if err := p.ensureNamespace(ctx, tenant); err != nil {
		return err
	}
	st.ready = true
	return nil
}

// checkParams checks what Create needs of params.
func checkParams(params *provider.CreateParams) error {
	if params.WorkerID == "" {
		return errors.New("worker id is empty")
	}
	if params.OS != "" && params.OS != "linux" && params.OS != "windows" {
		return fmt.Errorf("the kubernetes provider makes linux and windows workers; image os is %q", params.OS)
	}
	return checkArtifact(params.Artifact)
}

// ensureNamespace makes tenant's namespace, its worker service account
// and its NetworkPolicy, each unless it exists (another server of the
// installation may make them at the same time); an existing policy is
// updated to this provider's (the control plane namespace may have
// changed). A namespace is made once and kept: see the package doc.
func (p *Provider) ensureNamespace(ctx context.Context, tenant string) error {
	ns := namespaceSpec(&p.cfg, tenant)
	if _, err := p.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ns.Name, err)
	} else if err == nil {
		p.cfg.Logger.InfoContext(ctx, "worker namespace created", "tenant_id", tenant, "namespace", ns.Name)
	}
	sa := serviceAccountSpec(&p.cfg, ns.Name)
	if _, err := p.client.CoreV1().ServiceAccounts(ns.Name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create service account %s/%s: %w", ns.Name, sa.Name, err)
	}
	np := networkPolicySpec(&p.cfg, tenant)
	policies := p.client.NetworkingV1().NetworkPolicies(ns.Name)
	_, err := policies.Create(ctx, np, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		var old *networkingv1.NetworkPolicy
		if old, err = policies.Get(ctx, np.Name, metav1.GetOptions{}); err == nil {
			np.ResourceVersion = old.ResourceVersion
			_, err = policies.Update(ctx, np, metav1.UpdateOptions{})
		}
		if apierrors.IsConflict(err) {
			err = nil // another server updated it meanwhile, to the same
		}
	}
	if err != nil {
		return fmt.Errorf("create network policy %s/%s: %w", ns.Name, np.Name, err)
	}
	return nil
}
