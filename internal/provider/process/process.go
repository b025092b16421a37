package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/dynpool/dynpool/internal/provider"
	"github.com/dynpool/dynpool/internal/tlspin"
)

// Name is the provider's name in the catalog's artifacts and --provider.
const Name = "process"

// labelEnv maps each label a worker process carries to its environment
// variable. Other labels are not carried: List rebuilds these only.
var labelEnv = map[string]string{
	provider.LabelInstallation: provider.EnvInstallation,
	provider.LabelWorker:       provider.EnvWorkerID,
	provider.LabelTenant:       provider.EnvTenantID,
}

// agentLog is the file, in the worker directory, the agent's stdout and
// stderr go to.
const agentLog = "agent.log"

// ErrInvalidWorkerID is returned (wrapped) for a worker id that cannot name
// a directory: empty, ".", "..", or holding a path separator.
var ErrInvalidWorkerID = errors.New("invalid worker id")

// Config configures a [Provider].
type Config struct {
	// Installation names this server installation; it goes in every
	// worker's environment so List finds this installation's workers only.
	// Required.
	Installation string
	// Dir is the root of the worker directories <Dir>/<worker-id>/. It is
	// created if missing. Required.
	Dir string
	// Command starts the agent; default []string{os.Executable(), "agent"}.
	Command []string
	// Logger receives the provider's log; default slog.Default().
	Logger *slog.Logger
}

// Provider makes workers as local processes. It is safe for concurrent use.
type Provider struct {
	cfg Config

	mu         sync.Mutex
	children   map[string]*child       // worker id → our child agent, until reaped
	destroying map[string]*destroyCall // worker id → the Destroy in progress
}

var _ provider.Provider = (*Provider)(nil)

// New returns a Provider for cfg. It fails when Installation or Dir is
// empty, when the executable cannot be found for the default Command, or
// when Dir cannot be created.
func New(cfg Config) (*Provider, error) {
	if cfg.Installation == "" {
		return nil, errors.New("new process provider: installation is empty")
	}
	if cfg.Dir == "" {
		return nil, errors.New("new process provider: dir is empty")
	}
	if len(cfg.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("new process provider: find own executable: %w", err)
		}
		cfg.Command = []string{exe, "agent"}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("new process provider: %w", err)
	}
	return &Provider{
		cfg:        cfg,
		children:   make(map[string]*child),
		destroying: make(map[string]*destroyCall),
	}, nil
}

// Name returns "process".
func (p *Provider) Name() string { return Name }

// Supports returns nil for os "linux" with a "process" artifact, and
// otherwise an error wrapping provider.ErrUnsupported that says why.
func (p *Provider) Supports(os string, artifacts map[string]string) error {
	if os != "linux" {
		return fmt.Errorf("%w: the process provider makes linux workers only; image os is %q", provider.ErrUnsupported, os)
	}
	if _, ok := artifacts[Name]; !ok {
		return fmt.Errorf("%w: the image build has no %q artifact", provider.ErrUnsupported, Name)
	}
	return nil
}

// Create makes <Dir>/<worker-id>/ and starts Command there in a session
// (and so a process group) of its own, away from the server's controlling
// terminal, with the agent's settings and the worker's labels in
// its environment and its output in agent.log. The resource's ID is the
// worker id. The agent outlives ctx.
func (p *Provider) Create(ctx context.Context, params *provider.CreateParams) (*provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	dir, err := p.WorkerDir(params.WorkerID)
	if err != nil {
		return nil, fmt.Errorf("create worker: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	log, err := os.OpenFile(filepath.Join(dir, agentLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	defer log.Close() // the child has its own copy
	cmd := exec.Command(p.cfg.Command[0], p.cfg.Command[1:]...)
	cmd.Dir = dir
	cmd.Env = p.env(params, dir)
	cmd.Stdout, cmd.Stderr = log, log
	// A new session is also a new process group whose id is the agent's
	// pid, which Destroy signals; unlike Setpgid it also detaches the
	// worker from the server's session, so a terminal's hangup or job
	// control never reaches workers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create worker %s: start %q: %w", params.WorkerID, p.cfg.Command[0], err)
	}

	c := &child{pid: cmd.Process.Pid, exited: make(chan struct{})}
	p.mu.Lock()
	p.children[params.WorkerID] = c
	p.mu.Unlock()
	go p.reap(params.WorkerID, cmd, c)
	p.cfg.Logger.InfoContext(ctx, "worker process started",
		"worker_id", params.WorkerID, "tenant_id", params.TenantID, "pid", cmd.Process.Pid, "dir", dir)
	return &provider.Resource{ID: params.WorkerID, Labels: maps.Clone(params.Labels)}, nil
}

// child is an agent this Provider started.
type child struct {
	pid    int
	exited chan struct{} // closed once reaped
}

// gone reports whether c was reaped; a nil c (not our child) is gone.
func (c *child) gone() bool {
	if c == nil {
		return true
	}
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

// reap waits for the agent so it leaves no zombie.
func (p *Provider) reap(workerID string, cmd *exec.Cmd, c *child) {
	err := cmd.Wait()
	p.mu.Lock()
	if p.children[workerID] == c {
		delete(p.children, workerID)
	}
	p.mu.Unlock()
	// Log before announcing the exit: whoever waits on it may be gone, and
	// its logger with it, right after.
	p.cfg.Logger.InfoContext(context.Background(), "worker process exited", "worker_id", workerID, "pid", cmd.Process.Pid, "result", fmt.Sprint(err))
	close(c.exited)
}

// WorkerDir returns the directory of worker id, <Dir>/<id>, which is its
// agent's work directory; ErrInvalidWorkerID for an id that cannot be a
// directory name.
func (p *Provider) WorkerDir(id string) (string, error) {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) || strings.ContainsRune(id, 0) {
		return "", fmt.Errorf("%w %q", ErrInvalidWorkerID, id)
	}
	return filepath.Join(p.cfg.Dir, id), nil
}

// env is the server's environment without its own DYNPOOL_* settings
// (which hold the admin token), plus the agent's settings and labels.
func (p *Provider) env(params *provider.CreateParams, dir string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "DYNPOOL_")
	})
	return append(env,
		provider.EnvServer+"="+params.ServerURL,
		provider.EnvAgentToken+"="+params.RegistrationToken,
		provider.EnvAgentWorkDir+"="+dir,
		provider.EnvInstallation+"="+p.cfg.Installation,
		provider.EnvWorkerID+"="+params.WorkerID,
		provider.EnvTenantID+"="+params.TenantID,
		tlspin.EnvFingerprint+"="+params.ServerFingerprint,
	)
}
