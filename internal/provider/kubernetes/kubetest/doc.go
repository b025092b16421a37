// Package kubetest runs a real Kubernetes API server for tests: etcd and
// kube-apiserver as local processes on loopback ports, built from
// k8s.io/kubernetes by .ci/kube.sh, which prints the directory to put in
// DYNPOOL_TEST_KUBE_BIN. Tests skip, saying so, when it is not set.
//
// There is no controller manager, scheduler or kubelet. So:
//
//   - pods stay Pending unless a [Node] (the kubelet's stand-in: it runs
//     each pod's main container as a local process) is started;
//   - a deleted namespace stays Terminating (no namespace controller)
//     unless [StartNamespaceController] (its stand-in) runs; tests keep
//     apart by namespaces they never reuse ([Namespace]);
//   - no service account is made in new namespaces, and the ServiceAccount
//     admission plugin is off, so pods need none (and get no token);
//   - nothing garbage-collects by owner references.
//
// # Flow
//
//	func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }
//
//	func TestX(t *testing.T) {
//		cfg := kubetest.Shared(t)               // one API server per test binary
//		ns := kubetest.Namespace(t, cfg, "x")   // x-<random>, this test's own
//		node := kubetest.StartNode(t, cfg, kubetest.NodeOptions{Namespace: ns})
//		// create pods with a clientset from cfg; node runs them
//	}
//
// [Start] gives a test a server of its own instead, stopped when it ends.
package kubetest
