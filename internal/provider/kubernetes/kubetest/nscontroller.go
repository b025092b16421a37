package kubetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// namespacePoll is how often a [StartNamespaceController] looks for
// namespaces being deleted.
const namespacePoll = 200 * time.Millisecond

// StartNamespaceController stands in for the namespace controller of
// kube-controller-manager, which this package does not run: without it a
// deleted namespace stays Terminating for ever. Until the test ends it
// looks for namespaces being deleted every 200 ms, deletes every object
// in them (DeleteCollection on each namespaced resource that has it,
// default grace periods, background propagation), and once nothing is left removes the
// namespace's "kubernetes" finalizer, so the namespace goes. Pods bound
// to a [Node] go when the Node has stopped their processes; a pod bound
// to a Node that no longer runs keeps its namespace Terminating, as it
// would on a cluster whose node is gone.
//
// On a [Shared] server it acts on every test's namespaces, which is what
// a cluster does too.
func StartNamespaceController(t testing.TB, cfg *rest.Config) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	quiet := rest.CopyConfig(cfg)
	quiet.WarningHandler = rest.NoWarnings{} // "v1 Endpoints is deprecated", ...
	dyn, err := dynamic.NewForConfig(quiet)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := discovery.ServerPreferredNamespacedResources(cs.Discovery())
	if err != nil {
		t.Fatalf("namespace controller: discover resources: %v", err)
	}
	gvrs, err := discovery.GroupVersionResources(discovery.FilteredBy(
		discovery.SupportsAllVerbs{Verbs: []string{"list", "deletecollection"}}, lists))
	if err != nil {
		t.Fatalf("namespace controller: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(namespacePoll):
			}
			nss, err := cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			if err != nil {
				continue
			}
			for i := range nss.Items {
				ns := &nss.Items[i]
				if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
					continue
				}
				if err := emptyNamespace(ctx, dyn, ns.Name, gvrs); err != nil {
					continue // not yet: look again next time
				}
				ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool {
					return f == corev1.FinalizerKubernetes
				})
				_, _ = cs.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
			}
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// emptyNamespace deletes the objects of every resource in gvrs in
// namespace ns, and returns nil once none is left.
func emptyNamespace(ctx context.Context, dyn dynamic.Interface, ns string, gvrs map[schema.GroupVersionResource]struct{}) error {
	left := 0
	background := metav1.DeletePropagationBackground // as the namespace controller deletes
	for gvr := range gvrs {
		r := dyn.Resource(gvr).Namespace(ns)
		if err := r.DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &background}, metav1.ListOptions{}); err != nil {
			return fmt.Errorf("delete %s: %w", gvr.Resource, err)
		}
		list, err := r.List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			return fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		left += len(list.Items)
	}
	if left > 0 {
		return fmt.Errorf("%d resources still have objects", left)
	}
	return nil
}
