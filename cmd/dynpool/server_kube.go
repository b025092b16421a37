package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/dynpool/dynpool/internal/provider/kubernetes"
)

// kubeFlags are the kubernetes provider's flags that need parsing into
// its Config.
type kubeFlags struct {
	cpu, memory string
	imagesFile  string
}

// register adds the --kube-* flags to f, writing plain ones into kc.
func (k *kubeFlags) register(f *pflag.FlagSet, kc *kubernetes.Config) {
	f.StringVar(&kc.Kubeconfig, "kube-config", "", "kubernetes provider: kubeconfig file (default: in-cluster credentials, else KUBECONFIG or ~/.kube/config)")
	f.StringVar(&kc.Context, "kube-context", "", "kubernetes provider: kubeconfig context (default: its current one)")
	f.StringVar(&kc.NamespacePrefix, "kube-namespace-prefix", kubernetes.DefaultNamespacePrefix, "kubernetes provider: first part of the names of the worker namespaces, <prefix><installation>-<tenant>")
	f.StringVar(&kc.AgentImage, "kube-agent-image", kubernetes.DefaultAgentImage, "kubernetes provider: image whose init container copies the static dynpool binary ("+kubernetes.AgentImageBinary+") into each worker pod; the default is tagged with this server's version when it is a release, else latest")
	f.StringVar(&kc.ControlPlaneNamespace, "kube-control-plane-namespace", "", "kubernetes provider: namespace of the dynpool server, whose pods the worker namespaces let in (default: the server's own when it runs in a pod)")
	f.StringToStringVar(&kc.ControlPlaneSelector, "kube-control-plane-selector", nil, "kubernetes provider: labels of the dynpool server's pods, e.g. app.kubernetes.io/name=dynpool, narrowing the control plane namespace to them in the worker namespaces' network policy (default: every pod of that namespace)")
	f.StringVar(&k.cpu, "kube-cpu", "", `kubernetes provider: CPU requested and limited per worker pod, e.g. "500m" or "2" (default: none)`)
	f.StringVar(&k.memory, "kube-memory", "", `kubernetes provider: memory requested and limited per worker pod, e.g. "2Gi" (default: none)`)
	f.StringVar(&k.imagesFile, "kube-images", "", "kubernetes provider: YAML file of node selectors, tolerations, cpu and memory per catalog image (docs/kubernetes.md)")
}

// apply parses the flags that need it into kc.
func (k *kubeFlags) apply(kc *kubernetes.Config) error {
	r, err := kubernetes.Resources(k.cpu, k.memory)
	if err != nil {
		return fmt.Errorf("--kube-cpu or --kube-memory: %w", err)
	}
	kc.Resources = r
	if k.imagesFile != "" {
		if kc.Images, err = kubernetes.LoadImages(k.imagesFile); err != nil {
			return fmt.Errorf("--kube-images: %w", err)
		}
	}
	return nil
}
