package kubernetes

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/dynpool/dynpool/internal/provider"
)

// List returns one resource per pod of this installation, in its
// namespaces (found by its provider.LabelInstallation label, kept when it
// lives in its tenant's namespace or the standby one: see owns), with the
// provider.Label* labels rebuilt from the pod's annotations, sorted by
// id. A pod that ended (phase Failed, which an evicted pod also has, or
// Succeeded: restartPolicy is Never, so its agent runs no more) is listed
// Stopped, so the fleet marks its worker lost and destroys it. A pod being
// deleted is not listed: it is going, and its worker with it.
func (p *Provider) List(ctx context.Context) ([]*provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	pods, err := p.client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: p.selector()})
	if err != nil {
		return nil, fmt.Errorf("list workers: list pods: %w", err)
	}
	out := make([]*provider.Resource, 0, len(pods.Items))
	for i := range pods.Items {
		if r := p.resource(&pods.Items[i]); r != nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// selector selects the worker pods of this installation.
func (p *Provider) selector() string {
	return labels.SelectorFromSet(labels.Set{
		provider.LabelInstallation: labelValue(p.cfg.Installation),
		LabelManagedBy:             ManagedBy,
	}).String()
}

// resource returns pod as a resource, or nil for a pod being deleted or
// of another installation.
func (p *Provider) resource(pod *corev1.Pod) *provider.Resource {
	if pod.DeletionTimestamp != nil || !p.owns(pod) {
		return nil
	}
	rl := make(map[string]string, len(resourceLabels))
	for _, k := range resourceLabels {
		if v, ok := pod.Annotations[k]; ok {
			rl[k] = v
		} else if v, ok := pod.Labels[k]; ok {
			rl[k] = v
		}
	}
	return &provider.Resource{ID: resourceID(pod.Namespace, pod.Name), Labels: rl, Stopped: ended(pod)}
}

// owns reports whether pod is a worker of this installation: its label
// selects it, its annotation (the real value, which a changed label value
// may share with another installation's) names it, and it lives in a
// namespace of this provider: its tenant's, or the standby namespace (a
// bound standby worker stays there). Labels alone are not enough: anyone
// who may create pods somewhere could copy them, and have the server
// count (or delete) a pod it never made.
func (p *Provider) owns(pod *corev1.Pod) bool {
	if annotated(pod, provider.LabelInstallation) != p.cfg.Installation || pod.Labels[LabelManagedBy] != ManagedBy {
		return false
	}
	return pod.Namespace == p.cfg.namespaceName(annotated(pod, provider.LabelTenant)) || pod.Namespace == p.cfg.namespaceName("")
}

// annotated returns the real value of pod's label key: its annotation of
// that key, else the label itself.
func annotated(pod *corev1.Pod, key string) string {
	if v, ok := pod.Annotations[key]; ok {
		return v
	}
	return pod.Labels[key]
}

// ended reports whether pod's agent runs no more and never will.
func ended(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodFailed || pod.Status.Phase == corev1.PodSucceeded
}
