package kubetest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/dynpool/dynpool/internal/eventually"
	"github.com/dynpool/dynpool/internal/provider/kubernetes/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

// podTimeout bounds the wait for a pod to reach a state; the Node acts
// within milliseconds, the rest is a busy machine's slack.
const podTimeout = 30 * time.Second

// env is one test's view of the shared server: a clientset and a
// namespace of its own.
type env struct {
	cfg *rest.Config
	cs  *kubernetes.Clientset
	ns  string
}

func newEnv(t *testing.T) env {
	t.Helper()
	cfg := kubetest.Shared(t)
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return env{cfg: cfg, cs: cs, ns: kubetest.Namespace(t, cfg, "kubetest")}
}

// node starts a Node for the test's namespace and its app=kubetest pods.
func (e env) node(t *testing.T, opts kubetest.NodeOptions) *kubetest.Node {
	t.Helper()
	opts.Namespace, opts.Selector = e.ns, "app=kubetest"
	return kubetest.StartNode(t, e.cfg, opts)
}

func (e env) create(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if _, err := e.cs.CoreV1().Pods(e.ns).Create(t.Context(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s: %v", pod.Name, err)
	}
}

func shPod(name, script string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "kubetest"}},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers: []corev1.Container{{
				Name: "main", Image: "example.invalid/sh", Command: []string{"/bin/sh", "-c", script},
			}},
		},
	}
}

func TestSkipsWithoutBinaries(t *testing.T) {
	for name, start := range map[string]func(testing.TB){
		"Start":  func(t testing.TB) { kubetest.Start(t) },
		"Shared": func(t testing.TB) { kubetest.Shared(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(kubetest.EnvBin, "")
			start(t)
			t.Error("did not skip")
		})
	}
}

func TestServerAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, name := range []string{"a", "b"} {
		pod := shPod(name, "true")
		if name == "b" {
			pod.Labels = map[string]string{"app": "other"}
		}
		e.create(t, pod)
	}
	list, err := e.cs.CoreV1().Pods(e.ns).List(t.Context(), metav1.ListOptions{LabelSelector: "app=kubetest"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "a" {
		t.Fatalf("pods labelled app=kubetest = %v, want [a]", list.Items)
	}
	if phase := list.Items[0].Status.Phase; phase != corev1.PodPending {
		t.Errorf("phase without a node = %s, want Pending", phase)
	}
}

// TestStartOwnServer checks that a test may have a server of its own
// beside the shared one.
func TestStartOwnServer(t *testing.T) {
	t.Parallel()
	cs, err := kubernetes.NewForConfig(kubetest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitPod waits until pod namespace/name satisfies cond and returns it.
func waitPod(t *testing.T, cs kubernetes.Interface, ns, name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	eventually.Holds(t, "pod "+name+" "+what, podTimeout, func() bool {
		p, err := cs.CoreV1().Pods(ns).Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		pod = p
		return cond(p)
	})
	return pod
}

func phaseIs(phase corev1.PodPhase) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.Status.Phase == phase }
}

// TestNodeRunsPod runs a pod to its end and checks the environment the
// Node gives its process and the status it reports.
func TestNodeRunsPod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	node := e.node(t, kubetest.NodeOptions{Env: []string{"FROM_NODE=node"}})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "token"},
		Data:       map[string][]byte{"token": []byte("s3cret")},
	}
	if _, err := e.cs.CoreV1().Secrets(e.ns).Create(t.Context(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := shPod("hello", `echo "hi $GREETING $(GREETING) $POD $TOKEN $FROM_NODE $LITERAL"`)
	pod.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "GREETING", Value: "there"},
		{Name: "LITERAL", Value: "$$(GREETING)"}, // $$ is an escaped $
		{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "token"}, Key: "token",
		}}},
	}
	e.create(t, pod)

	got := waitPod(t, e.cs, e.ns, "hello", "Succeeded", phaseIs(corev1.PodSucceeded))
	if got.Spec.NodeName != node.Name() {
		t.Errorf("nodeName = %q, want %q", got.Spec.NodeName, node.Name())
	}
	if len(got.Status.ContainerStatuses) != 1 || got.Status.ContainerStatuses[0].State.Terminated == nil ||
		got.Status.ContainerStatuses[0].State.Terminated.ExitCode != 0 {
		t.Errorf("container statuses = %+v, want one terminated with exit code 0", got.Status.ContainerStatuses)
	}
	out := node.Output(e.ns, "hello")
	if want := "hi there there hello s3cret node $(GREETING)\n"; !strings.HasPrefix(out, want) {
		t.Errorf("output = %q, want it to start %q", out, want)
	}
}

func TestNodeReportsFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.node(t, kubetest.NodeOptions{})
	e.create(t, shPod("fails", "exit 3"))
	missing := shPod("missing", "true")
	missing.Spec.Containers[0].Command = []string{"/nonexistent/dynpool", "agent"}
	e.create(t, missing)

	for name, want := range map[string]int32{"fails": 3, "missing": 128} {
		got := waitPod(t, e.cs, e.ns, name, "Failed", phaseIs(corev1.PodFailed))
		cs := got.Status.ContainerStatuses
		if len(cs) != 1 || cs[0].State.Terminated == nil || cs[0].State.Terminated.ExitCode != want {
			t.Errorf("pod %s: container statuses = %+v, want exit code %d", name, cs, want)
		}
	}
}

// TestNodeExecutable checks that NodeOptions.Executable replaces the
// container's executable and keeps its arguments.
func TestNodeExecutable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	node := e.node(t, kubetest.NodeOptions{Executable: "/bin/echo"})
	pod := shPod("agent", "")
	pod.Spec.Containers[0].Command = []string{"/dynpool/dynpool", "agent"}
	pod.Spec.Containers[0].Args = []string{"--flag"}
	e.create(t, pod)
	waitPod(t, e.cs, e.ns, "agent", "Succeeded", phaseIs(corev1.PodSucceeded))
	if out := node.Output(e.ns, "agent"); out != "agent --flag\n" {
		t.Errorf("output = %q, want %q", out, "agent --flag\n")
	}
}

// TestNodeDeleteKillsProcess deletes a running pod and checks that its
// process ends and the pod goes, as with a kubelet.
func TestNodeDeleteKillsProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.node(t, kubetest.NodeOptions{})
	pidFile := filepath.Join(t.TempDir(), "pid")
	// $$$$ is the shell's $$ once the Node has expanded $(VAR) references.
	e.create(t, shPod("sleeper", "echo $$$$ > "+pidFile+"; exec sleep 600"))

	got := waitPod(t, e.cs, e.ns, "sleeper", "Running and Ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && p.Status.PodIP == "127.0.0.1" && ready(p)
	})
	var pid int
	eventually.Holds(t, "the pid file", podTimeout, func() bool {
		data, err := os.ReadFile(pidFile)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	})
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("process %d of running pod: %v", pid, err)
	}
	if err := e.cs.CoreV1().Pods(e.ns).Delete(t.Context(), "sleeper", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the pod to go", podTimeout, func() bool {
		p, err := e.cs.CoreV1().Pods(e.ns).Get(t.Context(), "sleeper", metav1.GetOptions{})
		return apierrors.IsNotFound(err) || (err == nil && p.UID != got.UID)
	})
	eventually.Holds(t, "the process to end", podTimeout, func() bool {
		return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
	})
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestNamespaceController deletes a namespace with a running pod and a
// ConfigMap in it and checks that it goes, the pod's process with it.
func TestNamespaceController(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	kubetest.StartNamespaceController(t, e.cfg)
	node := e.node(t, kubetest.NodeOptions{})
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}, Data: map[string]string{"a": "b"}}
	if _, err := e.cs.CoreV1().ConfigMaps(e.ns).Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.create(t, shPod("sleeper", "echo started; exec sleep 600"))
	waitPod(t, e.cs, e.ns, "sleeper", "Running", phaseIs(corev1.PodRunning))
	eventually.Holds(t, "the process to start", podTimeout, func() bool {
		return node.Output(e.ns, "sleeper") == "started\n"
	})

	if err := e.cs.CoreV1().Namespaces().Delete(t.Context(), e.ns, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the namespace to go", podTimeout, func() bool {
		_, err := e.cs.CoreV1().Namespaces().Get(t.Context(), e.ns, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
}
