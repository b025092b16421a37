package kubernetes

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/kubernetes/kubetest"
)

// A pod that carries this installation's labels and annotations, but in a
// namespace the provider did not make, is neither listed (so never taken
// for an orphan) nor deleted.
func TestLookalikeInOtherNamespaceUntouched(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	create(t, p, "w-1", "t-1")
	ns := kubetest.Namespace(t, rc, "elsewhere")
	meta := objectMeta("worker-w-2", ns, map[string]string{
		provider.LabelInstallation: p.cfg.Installation, provider.LabelWorker: "w-2", provider.LabelTenant: "t-1"})
	pod := &corev1.Pod{ObjectMeta: meta, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: testImage}}}}
	if _, err := p.client.CoreV1().Pods(ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod: %v", err)
	}
	rs, err := p.List(t.Context())
	if err != nil || len(rs) != 1 || rs[0].Labels[provider.LabelWorker] != "w-1" {
		t.Errorf("List = %+v, %v; want worker w-1 only", rs, err)
	}
	if err := p.Destroy(t.Context(), resourceID(ns, meta.Name)); err == nil {
		t.Error("Destroy of a pod in another namespace succeeded")
	}
	if _, err := p.client.CoreV1().Pods(ns).Get(t.Context(), meta.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("the pod in another namespace is gone: %v", err)
	}
}
