package kubetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
)

// maxGrace caps how long a deleted pod's process gets between SIGTERM and
// SIGKILL, whatever its terminationGracePeriodSeconds (default 30 s), so a
// test does not wait half a minute on a process that ignores SIGTERM.
const maxGrace = 10 * time.Second

// NodeOptions says which pods a [Node] runs and how.
type NodeOptions struct {
	// Name is the node the pods are bound to; default "kubetest-" and a
	// random suffix. Two Nodes on one server never run the same pod: the
	// first to bind it owns it.
	Name string
	// Namespace limits the Node to the pods of one namespace; empty means
	// every namespace. On a [Shared] server set it (or a Selector only
	// this test's pods match): a Node binds every pod it sees first,
	// another test's too.
	Namespace string
	// Selector is a label selector in the API's syntax
	// ("dynpool.dev/worker,app=x") the pods must match; empty matches
	// every pod.
	Selector string
	// Executable, when set, replaces the first word of the main
	// container's command: a pod that says ["/dynpool/dynpool", "agent"]
	// runs [Executable, "agent"]. Tests set it to a dynpool binary they
	// built, or to os.Args[0] when their TestMain can act as the agent.
	Executable string
	// Env is added to every process's environment, before the pod's own
	// variables (which win).
	Env []string
}

// Node stands in for the kubelet (and the scheduler), because the test API
// server of this package has neither: without it every pod would stay
// Pending for ever. It is not a container runtime and isolates nothing.
//
// For each new pod that matches its options it
//
//  1. binds the pod to its node name (pods/binding), as the scheduler would;
//  2. starts the pod's first container (spec.containers[0]) as a local
//     process: command and args with $(VAR) references expanded, the
//     container's environment (see below), in a fresh working directory
//     (workingDir is ignored), output to a file ([Node.Output]);
//  3. sets the pod Running and Ready through the status subresource, with
//     podIP and hostIP 127.0.0.1;
//  4. when the process exits, sets the pod Succeeded (exit code 0) or
//     Failed, with the exit code in the container's terminated state
//     (128+n for signal n). Nothing is restarted, whatever the
//     restartPolicy.
//
// When a pod is deleted (deletionTimestamp set), it sends SIGTERM to the
// process group, SIGKILL after the pod's grace period (at most
// [maxGrace]), and then removes the pod with grace period 0, as the
// kubelet does. A pod removed outright has its process killed at once.
//
// The environment is PATH from the test process, HOME (the working
// directory), HOSTNAME (the pod name), KUBERNETES_SERVICE_HOST and _PORT
// (the API server), [NodeOptions.Env], then the container's envFrom and
// env: literal values, fieldRef (metadata.name, .namespace, .uid,
// .labels['k'], .annotations['k'], spec.nodeName,
// spec.serviceAccountName, status.podIP, status.hostIP), secretKeyRef and
// configMapKeyRef. Anything else (resourceFieldRef, ...) fails the pod
// with reason StartError. Init containers, other containers, probes,
// volumes and images are ignored: the pod is reported Ready as soon as
// its process has started, its other containers as waiting.
type Node struct {
	opts   NodeOptions
	cs     kubernetes.Interface
	host   string // API server host:port, for KUBERNETES_SERVICE_*
	dir    string // per-pod working directories and output files
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // pod goroutines; Add only under mu, before stopping

	mu       sync.Mutex
	pods     map[types.UID]*podProc
	latest   map[string]*podProc // by namespace/name: the newest pod of that name
	logf     func(string, ...any)
	stopping bool // the test is ending: start nothing more
	closed   bool // the test has ended: log nothing more
}

// podProc is the process of one pod.
type podProc struct {
	namespace, name string
	uid             types.UID
	output          string
	cmd             *exec.Cmd     // nil if it failed to start; set before the podProc is shared
	exited          chan struct{} // closed when the process has exited or failed to start
	deleted         atomic.Bool   // the pod is going: no more status, remove it at the end
}

// StartNode starts a [Node] against the API server cfg points at. It runs
// until the test ends, then kills every process it started.
func StartNode(t testing.TB, cfg *rest.Config, opts NodeOptions) *Node {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "kubetest-" + strings.ToLower(rand.Text()[:8])
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("node %s: %v", opts.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		opts: opts, cs: cs, host: strings.TrimPrefix(cfg.Host, "https://"),
		dir: t.TempDir(), ctx: ctx, cancel: cancel,
		pods: make(map[types.UID]*podProc), latest: make(map[string]*podProc), logf: t.Logf,
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0,
		informers.WithNamespace(opts.Namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = opts.Selector }))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { n.sync(obj) },
		UpdateFunc: func(_, obj any) { n.sync(obj) },
		DeleteFunc: n.forget,
	}); err != nil {
		t.Fatalf("node %s: %v", opts.Name, err)
	}
	factory.Start(ctx.Done())
	t.Cleanup(func() { n.stop(t) })
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			t.Fatalf("node %s: %v informer did not sync", opts.Name, typ)
		}
	}
	return n
}

// Name returns the node name the pods are bound to.
func (n *Node) Name() string { return n.opts.Name }

// Output returns what the process of pod namespace/name (the newest pod
// of that name) has written to stdout and stderr so far, or "" if the
// Node has not started it.
func (n *Node) Output(namespace, name string) string {
	n.mu.Lock()
	p := n.latest[namespace+"/"+name]
	n.mu.Unlock()
	if p == nil {
		return ""
	}
	data, _ := os.ReadFile(p.output)
	return string(data)
}

// stop ends the watch, kills every process and waits for them. When the
// test failed, it logs the end of each pod's output.
func (n *Node) stop(t testing.TB) {
	n.cancel()
	n.mu.Lock()
	n.stopping = true
	procs := make([]*podProc, 0, len(n.pods))
	for _, p := range n.pods {
		procs = append(procs, p)
	}
	n.mu.Unlock()
	for _, p := range procs {
		p.kill(0)
	}
	n.wg.Wait()
	if t.Failed() {
		for _, p := range procs {
			t.Logf("node %s: output of pod %s/%s:\n%s", n.opts.Name, p.namespace, p.name, tail(p.output, 20))
		}
	}
	n.mu.Lock()
	n.closed = true
	n.mu.Unlock()
}

// log logs through the test until it has ended.
func (n *Node) log(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.closed {
		n.logf("node %s: "+format, append([]any{n.opts.Name}, args...)...)
	}
}

// sync acts on one pod event: bind and start a new pod, kill the process
// of a pod being deleted.
func (n *Node) sync(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || n.ctx.Err() != nil {
		return
	}
	n.mu.Lock()
	p := n.pods[pod.UID]
	n.mu.Unlock()
	switch {
	case pod.DeletionTimestamp != nil:
		if p == nil || p.hasExited() {
			if pod.Spec.NodeName == n.opts.Name {
				// Ours, its process gone (or never started here).
				n.remove(pod.Namespace, pod.Name, pod.UID)
			}
			return
		}
		if !p.deleted.Swap(true) {
			grace := maxGrace
			if s := pod.DeletionGracePeriodSeconds; s != nil && time.Duration(*s)*time.Second < grace {
				grace = time.Duration(*s) * time.Second
			}
			go p.kill(grace) // the process goroutine removes the pod
		}
	case p != nil:
		// Running already; status changes are ours.
	case pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed:
	case pod.Spec.NodeName == "":
		if err := n.bind(pod); err != nil {
			if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
				n.log("bind pod %s/%s: %v", pod.Namespace, pod.Name, err)
			}
			return // another node has it, or it is gone
		}
		pod = pod.DeepCopy()
		pod.Spec.NodeName = n.opts.Name
		n.start(pod)
	case pod.Spec.NodeName == n.opts.Name:
		n.start(pod)
	}
}

// forget kills the process of a pod removed from the API.
func (n *Node) forget(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	n.mu.Lock()
	p := n.pods[pod.UID]
	n.mu.Unlock()
	if p != nil {
		p.deleted.Store(true)
		go p.kill(0)
	}
}

func (n *Node) bind(pod *corev1.Pod) error {
	return n.cs.CoreV1().Pods(pod.Namespace).Bind(n.ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: n.opts.Name},
	}, metav1.CreateOptions{})
}

// remove deletes the pod for good (grace period 0), as the kubelet does
// once the containers of a pod being deleted have stopped.
func (n *Node) remove(namespace, name string, uid types.UID) {
	err := n.cs.CoreV1().Pods(namespace).Delete(n.ctx, name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && n.ctx.Err() == nil {
		n.log("remove pod %s/%s: %v", namespace, name, err)
	}
}

// hasExited reports whether the process has exited or never started.
func (p *podProc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// kill sends SIGTERM to the process group, and SIGKILL after grace (at
// once when grace is 0). It returns when the process has exited.
func (p *podProc) kill(grace time.Duration) {
	if p.hasExited() {
		return
	}
	pgid := -p.cmd.Process.Pid
	if grace > 0 {
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
			return
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	<-p.exited
}

// errStart marks an error that keeps a pod's process from starting.
var errStart = errors.New("cannot start")

// start starts the pod's process and reports the pod Running, or Failed
// when it cannot start. The rest happens in a goroutine: wait for the
// exit, report it, remove the pod when it is being deleted.
func (n *Node) start(pod *corev1.Pod) {
	p := &podProc{
		namespace: pod.Namespace, name: pod.Name, uid: pod.UID,
		output: filepath.Join(n.dir, pod.Namespace+"_"+pod.Name+"_"+string(pod.UID)+".log"),
		exited: make(chan struct{}),
	}
	began := metav1.Now()
	err := n.startProcess(pod, p)
	n.mu.Lock()
	if n.stopping {
		n.mu.Unlock()
		if err == nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			_ = p.cmd.Wait()
		}
		return
	}
	n.pods[pod.UID] = p
	n.latest[pod.Namespace+"/"+pod.Name] = p
	if err == nil {
		n.wg.Add(1)
	}
	n.mu.Unlock()
	if err != nil {
		close(p.exited)
		n.log("pod %s/%s: %v", pod.Namespace, pod.Name, err)
		n.setStatus(pod, func(s *corev1.PodStatus) { terminated(pod, s, began, 128, "StartError", err.Error()) })
		return
	}
	n.setStatus(pod, func(s *corev1.PodStatus) { running(pod, s, began) })
	go func() {
		defer n.wg.Done()
		code, reason := waitExit(p)
		// Children the process left behind go with it.
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		close(p.exited)
		switch {
		case n.ctx.Err() != nil:
		case p.deleted.Load():
			n.remove(pod.Namespace, pod.Name, pod.UID)
		default:
			n.setStatus(pod, func(s *corev1.PodStatus) { terminated(pod, s, began, code, reason, "") })
		}
	}()
}

// startProcess starts the main container of pod as a local process.
func (n *Node) startProcess(pod *corev1.Pod, p *podProc) error {
	if len(pod.Spec.Containers) == 0 {
		return fmt.Errorf("%w: the pod has no container", errStart)
	}
	c := pod.Spec.Containers[0]
	env, err := n.containerEnv(pod, &c)
	if err != nil {
		return err
	}
	vars := envMap(env)
	var argv []string
	for _, a := range append(append([]string{}, c.Command...), c.Args...) {
		argv = append(argv, expand(a, vars))
	}
	switch {
	case n.opts.Executable != "" && len(c.Command) > 0:
		argv[0] = n.opts.Executable
	case n.opts.Executable != "":
		argv = append([]string{n.opts.Executable}, argv...)
	case len(c.Command) == 0:
		return fmt.Errorf("%w: container %s has no command and the image's entrypoint is unknown here", errStart, c.Name)
	}
	work := filepath.Join(n.dir, string(pod.UID))
	if err := os.MkdirAll(work, 0o700); err != nil {
		return err
	}
	out, err := os.Create(p.output)
	if err != nil {
		return err
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + work,
	}, env...)
	cmd.Dir = work
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%w: %v", errStart, err)
	}
	p.cmd = cmd
	n.log("pod %s/%s: started %q (pid %d)", pod.Namespace, pod.Name, argv, cmd.Process.Pid)
	return nil
}

// waitExit waits for the process and returns its exit code as a container
// runtime reports it (128+n after signal n) and the reason.
func waitExit(p *podProc) (int32, string) {
	err := p.cmd.Wait()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, "Completed"
	case errors.As(err, &exit):
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int32(ws.Signal()), "Error"
		}
		return int32(exit.ExitCode()), "Error"
	default:
		return 128, "Error"
	}
}

// setStatus changes the pod's status with change, retrying on conflict.
// A pod that is gone, or a Node that has stopped, ends it quietly.
func (n *Node) setStatus(pod *corev1.Pod, change func(*corev1.PodStatus)) {
	pods := n.cs.CoreV1().Pods(pod.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur, err := pods.Get(n.ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cur.UID != pod.UID {
			return apierrors.NewNotFound(corev1.Resource("pods"), pod.Name)
		}
		change(&cur.Status)
		_, err = pods.UpdateStatus(n.ctx, cur, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) && n.ctx.Err() == nil {
		n.log("set status of pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

// running makes s the status of a pod whose main container has started.
func running(pod *corev1.Pod, s *corev1.PodStatus, began metav1.Time) {
	s.Phase = corev1.PodRunning
	s.HostIP, s.PodIP = "127.0.0.1", "127.0.0.1"
	s.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	s.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	s.StartTime = &began
	s.Conditions = conditions(began, corev1.ConditionTrue)
	s.ContainerStatuses = containerStatuses(pod, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: began}}, true)
}

// terminated makes s the status of a pod whose main container has ended
// with code: Succeeded for 0, Failed otherwise.
func terminated(pod *corev1.Pod, s *corev1.PodStatus, began metav1.Time, code int32, reason, message string) {
	now := metav1.Now()
	s.Phase = corev1.PodFailed
	if code == 0 {
		s.Phase = corev1.PodSucceeded
	}
	s.HostIP = "127.0.0.1"
	s.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	if s.StartTime == nil {
		s.StartTime = &began
	}
	s.Message = message
	s.Conditions = conditions(now, corev1.ConditionFalse)
	s.ContainerStatuses = containerStatuses(pod, corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: code, Reason: reason, Message: message, StartedAt: began, FinishedAt: now,
	}}, false)
}

// conditions are a scheduled, initialized pod's, ready or not.
func conditions(at metav1.Time, ready corev1.ConditionStatus) []corev1.PodCondition {
	c := func(typ corev1.PodConditionType, status corev1.ConditionStatus) corev1.PodCondition {
		return corev1.PodCondition{Type: typ, Status: status, LastTransitionTime: at}
	}
	return []corev1.PodCondition{
		c(corev1.PodScheduled, corev1.ConditionTrue),
		c(corev1.PodInitialized, corev1.ConditionTrue),
		c(corev1.PodReadyToStartContainers, ready),
		c(corev1.ContainersReady, ready),
		c(corev1.PodReady, ready),
	}
}

// containerStatuses gives the main container state and the others a
// waiting state that says why they do not run.
func containerStatuses(pod *corev1.Pod, main corev1.ContainerState, ready bool) []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for i, c := range pod.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: c.Image}
		if i == 0 {
			started := main.Running != nil
			cs.State, cs.Ready, cs.Started = main, ready, &started
		} else {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: "NotRunByKubetest", Message: "the kubetest node runs the first container only"}
		}
		out = append(out, cs)
	}
	return out
}
