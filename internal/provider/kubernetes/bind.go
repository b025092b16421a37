package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/dynpool/dynpool/internal/provider"
)

var _ provider.Binder = (*Provider)(nil)

// Bind labels the pod of a standby worker (made with an empty TenantID,
// in the standby namespace) with tenant, so that operators and List see
// whose it is. A pod cannot change namespace, so it stays in the standby
// namespace, whose NetworkPolicy lets in nothing but the control plane:
// a bound standby worker reaches no other tenant's worker, nor is reached
// by one, nor by its own tenant's other workers. A pod of a tenant
// namespace is refused: it is bound already.
func (p *Provider) Bind(ctx context.Context, resourceID, tenant string) error {
	namespace, name, ok := splitResourceID(resourceID)
	if !ok {
		return fmt.Errorf("bind worker pod %s: not a pod id (<namespace>/<name>)", resourceID)
	}
	if tenant == "" {
		return fmt.Errorf("bind worker pod %s: tenant id is empty", resourceID)
	}
	if standby := p.cfg.namespaceName(""); namespace != standby {
		return fmt.Errorf("bind worker pod %s to tenant %s: it is not in the standby namespace %s", resourceID, tenant, standby)
	}
	pods := p.client.CoreV1().Pods(namespace)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("bind worker pod %s to tenant %s: %w", resourceID, tenant, err)
	}
	if !p.owns(pod) {
		return fmt.Errorf("bind worker pod %s: it is not a worker of installation %q", resourceID, p.cfg.Installation)
	}
	if bound := pod.Annotations[provider.LabelTenant]; bound != "" && bound != tenant {
		return fmt.Errorf("bind worker pod %s to tenant %s: it is bound to tenant %s already", resourceID, tenant, bound)
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"labels":          map[string]string{provider.LabelTenant: labelValue(tenant)},
		"annotations":     map[string]string{provider.LabelTenant: tenant},
		"resourceVersion": pod.ResourceVersion, // no other change in between
	}})
	if err != nil {
		return fmt.Errorf("bind worker pod %s: %w", resourceID, err)
	}
	if _, err := pods.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("bind worker pod %s to tenant %s: label it: %w", resourceID, tenant, err)
	}
	p.cfg.Logger.InfoContext(ctx, "standby worker pod bound to its tenant", "namespace", namespace, "pod", name, "tenant_id", tenant)
	return nil
}
