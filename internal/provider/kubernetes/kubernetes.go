package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/dynpool/dynpool/internal/agent"
	"github.com/dynpool/dynpool/internal/provider"
)

// Name is the provider's name in the catalog's artifacts and --provider.
const Name = "kubernetes"

// Defaults of Config.
const (
	// DefaultNamespacePrefix starts every namespace the provider makes.
	DefaultNamespacePrefix = "dynpool-"
	// AgentImageRepository is the repository of DefaultAgentImage.
	AgentImageRepository = "dynpool/agent"
)

// DefaultAgentImage is the image whose init container copies the dynpool
// binary into each worker pod (see Config.AgentImage):
// dynpool/agent:<version> when this binary is a release (agent.Version,
// e.g. "v1.4.0"), so the agent matches the server; else (a development
// build) dynpool/agent:latest.
var DefaultAgentImage = agentImageFor(agent.Version())

// releaseVersion matches a release version, "v1.4.0": not a pre-release,
// a pseudo-version or a development build.
var releaseVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)

// agentImageFor returns the default agent image of a server of version.
func agentImageFor(version string) string {
	if releaseVersion.MatchString(version) {
		return AgentImageRepository + ":" + version
	}
	return AgentImageRepository + ":latest"
}

// Config configures a [Provider].
type Config struct {
	// Installation names this server installation; every pod and
	// namespace carries it as the provider.LabelInstallation label, and
	// List and Destroy touch this installation's pods only. Required; a
	// valid label value and DNS label (the server's ids are).
	Installation string
	// Kubeconfig is the path of a kubeconfig file; "" means the
	// in-cluster credentials when the server runs in a pod, else the
	// KUBECONFIG environment variable or ~/.kube/config (clientcmd's
	// default loading rules).
	Kubeconfig string
	// Context is the kubeconfig context to use; "" means its current one.
	Context string
	// REST, when set, is used instead of Kubeconfig and Context (tests).
	REST *rest.Config
	// NamespacePrefix starts the name of each tenant's namespace
	// <NamespacePrefix><Installation>-<tenant> and of the standby
	// namespace <NamespacePrefix><Installation>-standby; default
	// DefaultNamespacePrefix.
	NamespacePrefix string
	// AgentImage is the image of the init container that copies the
	// static linux dynpool binary into the worker pod: it must hold that
	// binary at AgentImageBinary and a cp command (e.g. FROM busybox).
	// Default DefaultAgentImage.
	AgentImage string
	// ControlPlaneNamespace is the namespace the dynpool server runs in,
	// whose pods the tenant namespaces' NetworkPolicy lets in; "" means
	// the server's own namespace when it runs in a pod, else none.
	ControlPlaneNamespace string
	// ControlPlaneSelector, when set, narrows the control plane to the
	// pods of ControlPlaneNamespace with these labels (e.g.
	// app.kubernetes.io/name=dynpool); unset, every pod of that
	// namespace counts as the control plane.
	ControlPlaneSelector map[string]string
	// Resources are the requests and limits of every worker's container,
	// unless its image's ImageConfig sets its own.
	Resources corev1.ResourceRequirements
	// Images holds settings per catalog image id (provider.CreateParams.Image).
	Images map[string]ImageConfig
	// Logger receives the provider's log; default slog.Default().
	Logger *slog.Logger
}

// ImageConfig is where and how the workers of one catalog image run.
type ImageConfig struct {
	// NodeSelector is added to the worker pod's node selector, which
	// always holds kubernetes.io/os: <the image's os>.
	NodeSelector map[string]string
	// Tolerations are the worker pod's tolerations.
	Tolerations []corev1.Toleration
	// Resources are this image's requests and limits: each one set
	// replaces that of Config.Resources of the same resource name (cpu,
	// memory), and the others are kept.
	Resources *corev1.ResourceRequirements
	// AgentImage, when set, replaces Config.AgentImage for this image:
	// a windows image needs a windows agent image (see podTemplate).
	AgentImage string
}

// ErrInvalidConfig is returned (wrapped) by New for a Config it cannot
// work with.
var ErrInvalidConfig = errors.New("invalid kubernetes provider config")

// withDefaults returns cfg with its zero fields set to the defaults.
func (cfg Config) withDefaults() Config {
	if cfg.NamespacePrefix == "" {
		cfg.NamespacePrefix = DefaultNamespacePrefix
	}
	if cfg.AgentImage == "" {
		cfg.AgentImage = DefaultAgentImage
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// validate checks cfg (with defaults) and says everything wrong at once.
func (cfg Config) validate() error {
	var errs []error
	switch {
	case cfg.Installation == "":
		errs = append(errs, errors.New("installation is empty"))
	case len(validation.IsDNS1123Label(cfg.Installation)) > 0:
		errs = append(errs, fmt.Errorf("installation %q is not a DNS label (lowercase letters, digits and dashes)", cfg.Installation))
	}
	if msgs := validation.IsDNS1123Label(cfg.NamespacePrefix + "x"); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("namespace prefix %q cannot start a namespace name: %s", cfg.NamespacePrefix, msgs[0]))
	}
	if _, err := reference.ParseNormalizedNamed(cfg.AgentImage); err != nil {
		errs = append(errs, fmt.Errorf("agent image %q: %w", cfg.AgentImage, err))
	}
	if cfg.ControlPlaneNamespace != "" && len(validation.IsDNS1123Label(cfg.ControlPlaneNamespace)) > 0 {
		errs = append(errs, fmt.Errorf("control plane namespace %q is not a namespace name", cfg.ControlPlaneNamespace))
	}
	for k, v := range cfg.ControlPlaneSelector {
		if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("control plane selector %s=%s: %s", k, v, msgs[0]))
		}
	}
	if err := checkResources("resources", &cfg.Resources); err != nil {
		errs = append(errs, err)
	}
	for _, img := range slices.Sorted(maps.Keys(cfg.Images)) {
		ic := cfg.Images[img]
		for k, v := range ic.NodeSelector {
			if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
				errs = append(errs, fmt.Errorf("image %s: node selector %s=%s: %s", img, k, v, msgs[0]))
			}
		}
		if ic.AgentImage != "" {
			if _, err := reference.ParseNormalizedNamed(ic.AgentImage); err != nil {
				errs = append(errs, fmt.Errorf("image %s: agent image %q: %w", img, ic.AgentImage, err))
			}
		}
		if ic.Resources != nil {
			if err := checkResources("image "+img+" resources", ic.Resources); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	return nil
}

// checkResources refuses negative quantities and a request above its
// limit, which the API server would refuse on every Create.
func checkResources(what string, r *corev1.ResourceRequirements) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.Requests)) {
		q := r.Requests[name]
		if q.Sign() < 0 {
			errs = append(errs, fmt.Errorf("%s: %s request %s is negative", what, name, q.String()))
		}
		if l, ok := r.Limits[name]; ok && q.Cmp(l) > 0 {
			errs = append(errs, fmt.Errorf("%s: %s request %s is above its limit %s", what, name, q.String(), l.String()))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.Limits)) {
		if q := r.Limits[name]; q.Sign() < 0 {
			errs = append(errs, fmt.Errorf("%s: %s limit %s is negative", what, name, q.String()))
		}
	}
	return errors.Join(errs...)
}

// Provider makes workers as pods on a Kubernetes cluster, through
// client-go. It is safe for concurrent use.
type Provider struct {
	cfg    Config
	client kubernetes.Interface
	host   string
	// namespaces holds, by name, whether this provider made sure of each
	// namespace (with its service account and policy); nsMu guards the
	// map, each entry's own lock its state.
	nsMu       sync.Mutex
	namespaces map[string]*nsState
}

var _ provider.Provider = (*Provider)(nil)

// New returns a Provider for cfg once the API server answers. It fails
// when cfg is invalid (wrapping ErrInvalidConfig), when no credentials are
// found, or when the API server cannot be reached, with an error that
// names its address.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	p, err := newProvider(cfg)
	if err != nil {
		return nil, err
	}
	if err := p.client.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Error(); err != nil {
		return nil, fmt.Errorf("new kubernetes provider: the API server at %s does not answer: %w", p.host, err)
	}
	return p, nil
}

// newProvider returns a Provider for cfg without asking the API server
// anything.
func newProvider(cfg Config) (*Provider, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("new kubernetes provider: %w", err)
	}
	rc, inCluster, err := restConfig(&cfg)
	if err != nil {
		return nil, fmt.Errorf("new kubernetes provider: %w", err)
	}
	if cfg.ControlPlaneNamespace == "" && inCluster {
		cfg.ControlPlaneNamespace = ownNamespace()
	}
	rc = rest.CopyConfig(rc)
	rc.UserAgent = "dynpool"
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("new kubernetes provider: %w", err)
	}
	return &Provider{cfg: cfg, client: c, host: rc.Host, namespaces: make(map[string]*nsState)}, nil
}

// restConfig returns the client configuration cfg names, and whether it
// is the in-cluster one.
func restConfig(cfg *Config) (*rest.Config, bool, error) {
	if cfg.REST != nil {
		return cfg.REST, false, nil
	}
	if cfg.Kubeconfig == "" && cfg.Context == "" {
		if rc, err := rest.InClusterConfig(); err == nil {
			return rc, true, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = cfg.Kubeconfig
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: cfg.Context}).ClientConfig()
	if err != nil {
		return nil, false, fmt.Errorf("load kubeconfig (not in a cluster): %w", err)
	}
	return rc, false, nil
}

// Name returns "kubernetes".
func (p *Provider) Name() string { return Name }

// Supports returns nil for os "linux" or "windows" with a "kubernetes"
// artifact that is a container image reference, and otherwise an error
// wrapping provider.ErrUnsupported that says why. A windows image is
// refused while no image of --kube-images sets an agent_image.
func (p *Provider) Supports(os string, artifacts map[string]string) error {
	if os != "linux" && os != "windows" {
		return fmt.Errorf("%w: the kubernetes provider makes linux and windows workers; image os is %q", provider.ErrUnsupported, os)
	}
	ref, ok := artifacts[Name]
	if !ok {
		return fmt.Errorf("%w: the image build has no %q artifact", provider.ErrUnsupported, Name)
	}
	if err := checkArtifact(ref); err != nil {
		return fmt.Errorf("%w: %w", provider.ErrUnsupported, err)
	}
	if os == "windows" && !p.windowsAgentImage() {
		return fmt.Errorf("%w: %s", provider.ErrUnsupported, errNoWindowsAgent)
	}
	return nil
}

// errNoWindowsAgent says why a windows worker cannot be made: the default
// agent image (Config.AgentImage) is a linux one, whose init container
// could not run on a windows node.
const errNoWindowsAgent = "a windows worker needs a windows agent image: set agent_image for its image in --kube-images"

// windowsAgentImage reports whether any image has an agent image of its
// own, which a windows image needs (Supports is not told the image id;
// Create checks the very image).
func (p *Provider) windowsAgentImage() bool {
	for _, ic := range p.cfg.Images {
		if ic.AgentImage != "" {
			return true
		}
	}
	return false
}

// checkArtifact checks that ref is a container image reference.
func checkArtifact(ref string) error {
	if ref == "" {
		return fmt.Errorf("the image build's %q artifact is empty; it must be a container image reference", Name)
	}
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		return fmt.Errorf("the image build's %q artifact %q is not a container image reference: %w", Name, ref, err)
	}
	return nil
}

// Resources returns requests and limits both set to cpu and memory
// (quantities such as "500m" and "2Gi"; "" leaves one unset), for the
// --kube-cpu and --kube-memory flags: a worker gets what it asks for, no
// more (the Guaranteed QoS class when both are set).
func Resources(cpu, memory string) (corev1.ResourceRequirements, error) {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	for name, s := range map[corev1.ResourceName]string{corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory} {
		if s == "" {
			continue
		}
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return r, fmt.Errorf("%s %q: %w", name, s, err)
		}
		r.Requests[name], r.Limits[name] = q, q
	}
	return r, nil
}

// serviceAccountNamespace is where a pod finds its own namespace.
const serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// ownNamespace returns the namespace of the pod this server runs in, or
// "" when that cannot be read.
func ownNamespace() string {
	b, err := os.ReadFile(serviceAccountNamespace)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
