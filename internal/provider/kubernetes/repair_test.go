package kubernetes

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/provider/kubernetes/kubetest"
)

// A namespace whose service account and policy were deleted gets them
// back at the Create after a failed one: a failed pod creation forgets
// that the provider made sure of the namespace.
func TestFailedCreateRepairsNamespace(t *testing.T) {
	t.Parallel()
	rc := kubetest.Shared(t)
	p := newTestProvider(t, rc, "inst-"+randomSuffix())
	create(t, p, "w-1", "t-1")
	ns := p.cfg.namespaceName("t-1")
	if err := p.client.NetworkingV1().NetworkPolicies(ns).Delete(t.Context(), NetworkPolicy, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete policy: %v", err)
	}
	if err := p.client.CoreV1().ServiceAccounts(ns).Delete(t.Context(), ServiceAccount, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete service account: %v", err)
	}
	// The API server refuses a label key with spaces (and, with no
	// service account, the pod anyway).
	if _, err := p.Create(t.Context(), &provider.CreateParams{WorkerID: "w-2", TenantID: "t-1", OS: "linux", Artifact: testImage,
		Labels: map[string]string{"not a key": "x"}}); err == nil {
		t.Fatal("Create of a pod the API server refuses succeeded")
	}
	create(t, p, "w-3", "t-1")
	if _, err := p.client.NetworkingV1().NetworkPolicies(ns).Get(t.Context(), NetworkPolicy, metav1.GetOptions{}); err != nil {
		t.Errorf("the policy is not back: %v", err)
	}
	if _, err := p.client.CoreV1().ServiceAccounts(ns).Get(t.Context(), ServiceAccount, metav1.GetOptions{}); err != nil {
		t.Errorf("the service account is not back: %v", err)
	}
}
