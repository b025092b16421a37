package kubetest

import (
	"context"
	"crypto/tls"
	"crypto/x509"

	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// EnvBin names the environment variable that holds the directory with the
// etcd and kube-apiserver binaries; .ci/kube.sh builds them and prints it.
const EnvBin = "DYNPOOL_TEST_KUBE_BIN"

// readyTimeout bounds the wait for etcd and then kube-apiserver to answer
// (about 3 s on an idle machine; -race and a busy CI take longer).
const readyTimeout = 2 * time.Minute

// Start starts a new etcd and kube-apiserver for this test alone and
// returns an admin's client configuration (a bearer token in
// system:masters, TLS verified against the test's own CA). Both processes
// stop when the test ends. It skips the test when [EnvBin] is not set, and
// fails it when the binaries are not in that directory.
//
// Start-up costs seconds; tests that can share a server use [Shared].
func Start(t testing.TB) *rest.Config {
	t.Helper()
	bin := binDir(t)
	s, err := startServer(bin, t.TempDir(), t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.stop)
	return rest.CopyConfig(s.config)
}

// shared is the server [Shared] starts once per test binary.
var shared struct {
	mu  sync.Mutex
	s   *server
	dir string
	err error
}

// Shared returns an admin's client configuration for the one API server
// of this test binary, starting it on the first call. Tests that share it
// keep apart by namespace ([Namespace]). It skips and fails as [Start]
// does; a failed start fails every later caller too.
//
// The server runs until [StopShared]; call it from TestMain (or use
// [Main]). Should the test binary exit without it, the processes get
// SIGKILL as it dies and only their temporary directory stays behind.
func Shared(t testing.TB) *rest.Config {
	t.Helper()
	bin := binDir(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.s == nil && shared.err == nil {
		dir, err := os.MkdirTemp("", "kubetest-")
		if err == nil {
			shared.dir = dir
			shared.s, err = startServer(bin, dir, t.Logf)
		}
		shared.err = err
	}
	if shared.err != nil {
		t.Fatalf("shared API server: %v", shared.err)
	}
	return rest.CopyConfig(shared.s.config)
}

// StopShared stops the server [Shared] started, if any, and removes its
// files. Calling it again does nothing.
func StopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.s != nil {
		shared.s.stop()
		shared.s = nil
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
		shared.dir = ""
	}
}

// Main runs the tests and then [StopShared], for a TestMain that needs
// nothing else:
//
//	func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	return code
}

// binDir returns the directory [EnvBin] names, skipping the test when it
// is unset and failing it when a binary is missing there.
func binDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvBin)
	if dir == "" {
		t.Skip(EnvBin + " not set: run .ci/kube.sh (builds etcd and kube-apiserver) and export what it prints")
	}
	for _, name := range []string{"etcd", "kube-apiserver"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s=%s: %v (run .ci/kube.sh)", EnvBin, dir, err)
		}
	}
	return dir
}

// server is one running etcd and kube-apiserver.
type server struct {
	config    *rest.Config
	etcd, api *proc
}

func (s *server) stop() {
	s.api.stop() // first, so it does not spend its end retrying etcd
	s.etcd.stop()
}

// startServer starts etcd and kube-apiserver with their files in dir and
// waits until the API server is ready and has made the default
// namespace. A port taken between choosing and binding it is retried.
func startServer(bin, dir string, logf func(string, ...any)) (*server, error) {
	const attempts = 3
	var err error
	for i := range attempts {
		var s *server
		var retry bool
		s, retry, err = tryStartServer(bin, filepath.Join(dir, strconv.Itoa(i)), logf)
		if err == nil || !retry {
			return s, err
		}
		logf("kubetest: %v; trying other ports", err)
	}
	return nil, err
}

func tryStartServer(bin, dir string, logf func(string, ...any)) (s *server, retry bool, err error) {
	began := time.Now()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	pki, err := newPKI(dir)
	if err != nil {
		return nil, false, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, false, err
	}
	clientURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	etcd, err := startProc("etcd", filepath.Join(dir, "etcd.log"), filepath.Join(bin, "etcd"),
		"--name=kubetest",
		"--data-dir="+filepath.Join(dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=kubetest="+peerURL,
		"--log-level=warn",
		"--unsafe-no-fsync", // test data: speed over durability
	)
	if err != nil {
		return nil, false, err
	}
	s = &server{etcd: etcd}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	if err := waitHTTP(etcd, http.DefaultClient, clientURL+"/health", nil, began, logf); err != nil {
		return s, addrInUse(etcd), err
	}

	host := "https://127.0.0.1:" + strconv.Itoa(ports[2])
	s.api, err = startProc("kube-apiserver", filepath.Join(dir, "kube-apiserver.log"), filepath.Join(bin, "kube-apiserver"),
		"--etcd-servers="+clientURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[2]),
		"--cert-dir="+dir,
		"--tls-cert-file="+pki.certFile,
		"--tls-private-key-file="+pki.keyFile,
		"--token-auth-file="+pki.tokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pki.saKeyFile,
		"--service-account-signing-key-file="+pki.saKeyFile,
		"--service-cluster-ip-range=10.96.0.0/24",
		// No controller manager runs here, so nothing would keep the
		// kubernetes endpoints, and no token controller would create a
		// "default" service account in each new namespace: without the
		// ServiceAccount admission plugin a pod needs none.
		"--endpoint-reconciler-type=none",
		"--disable-admission-plugins=ServiceAccount",
		"--enable-priority-and-fairness=false",
		"--allow-privileged=true",
		"--profiling=false",
	)
	if err != nil {
		return s, false, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pki.caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	header := http.Header{"Authorization": {"Bearer " + pki.adminToken}}
	if err := waitHTTP(s.api, client, host+"/readyz", header, began, logf); err != nil {
		return s, addrInUse(s.api), err
	}
	s.config = &rest.Config{
		Host:            host,
		BearerToken:     pki.adminToken,
		TLSClientConfig: rest.TLSClientConfig{CAData: pki.caPEM},
		QPS:             200,
		Burst:           400,
	}
	if err := waitDefaultNamespace(s.config, began); err != nil {
		return s, false, s.api.failure(err.Error())
	}
	logf("kubetest: kube-apiserver ready at %s in %v (files in %s)", host, time.Since(began).Round(time.Millisecond), dir)
	return s, false, nil
}

// waitHTTP polls url until it answers 200, the process ends or
// readyTimeout passes since began. Every 5 s it logs what is still
// failing, from the body of the last answer (/readyz?verbose lists its
// checks).
func waitHTTP(p *proc, client *http.Client, url string, header http.Header, began time.Time, logf func(string, ...any)) error {
	nextLog := time.Now().Add(5 * time.Second)
	last := "no answer yet"
	for {
		if p.exited() {
			return p.failure("wait for " + url)
		}
		ok, why := get(client, url, header)
		if ok {
			return nil
		}
		last = why
		if time.Since(began) > readyTimeout {
			return p.failure(fmt.Sprintf("%s not ready after %v (%s)", url, readyTimeout, last))
		}
		if time.Now().After(nextLog) {
			logf("kubetest: waiting for %s %s (%v): %s", p.name, url, time.Since(began).Round(time.Second), last)
			nextLog = time.Now().Add(5 * time.Second)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get reports whether url answers 200 and, when not, why: the error or
// the failing lines of a verbose health answer.
func get(client *http.Client, url string, header http.Header) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"?verbose", nil)
	if err != nil {
		return false, err.Error()
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return true, ""
	}
	var failing []string
	for line := range strings.Lines(string(body)) {
		if strings.HasPrefix(line, "[-]") {
			failing = append(failing, strings.TrimSpace(line))
		}
	}
	if len(failing) == 0 {
		return false, resp.Status
	}
	return false, resp.Status + ": " + strings.Join(failing, "; ")
}

// waitDefaultNamespace waits until the API server's bootstrap controller
// has made the default namespace, which tests take for granted.
func waitDefaultNamespace(cfg *rest.Config, began time.Time) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cs.CoreV1().Namespaces().Get(ctx, metav1.NamespaceDefault, metav1.GetOptions{})
		cancel()
		if err == nil {
			return nil
		}
		if time.Since(began) > readyTimeout {
			return fmt.Errorf("namespace default: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
