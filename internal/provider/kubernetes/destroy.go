package kubernetes

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dynpool/dynpool/internal/provider"
)

// Destroy deletes pod resourceID ("<namespace>/<name>"), giving its agent
// terminationGrace seconds between SIGTERM and SIGKILL. It returns once
// the API server accepted the deletion: the pod is then being deleted,
// and List shows it no more. A pod that is gone already, or an id no pod
// can have, is not an error; a pod of another installation is. The
// namespace stays (see the package doc).
func (p *Provider) Destroy(ctx context.Context, resourceID string) error {
	if resourceID == "" {
		return errors.New("destroy worker: resource id is empty")
	}
	namespace, name, ok := splitResourceID(resourceID)
	if !ok {
		return nil // never made by this provider
	}
	pods := p.client.CoreV1().Pods(namespace)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("destroy worker pod %s: %w", resourceID, err)
	}
	if !p.owns(pod) {
		return fmt.Errorf("destroy worker pod %s: it is not a worker of installation %q", resourceID, p.cfg.Installation)
	}
	if pod.DeletionTimestamp != nil {
		return nil // being deleted already
	}
	grace := int64(terminationGrace)
	err = pods.Delete(ctx, name, metav1.DeleteOptions{
		GracePeriodSeconds: &grace,
		Preconditions:      &metav1.Preconditions{UID: &pod.UID}, // the pod looked at, not a namesake made since
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("destroy worker pod %s: delete: %w", resourceID, err)
	}
	p.cfg.Logger.InfoContext(ctx, "worker pod deleted", "worker_id", pod.Annotations[provider.LabelWorker],
		"tenant_id", pod.Annotations[provider.LabelTenant], "namespace", namespace, "pod", name)
	return nil
}
