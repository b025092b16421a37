package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/dynpool/dynpool/internal/provider/kubernetes"
)

func TestKubeFlags(t *testing.T) {
	t.Parallel()
	images := filepath.Join(t.TempDir(), "images.yaml")
	if err := os.WriteFile(images, []byte("images:\n  windows-2019:\n    node_selector: {pool: win}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	parse := func(args ...string) (kubernetes.Config, error) {
		var (
			k  kubeFlags
			kc kubernetes.Config
		)
		f := pflag.NewFlagSet("server", pflag.ContinueOnError)
		k.register(f, &kc)
		if err := f.Parse(args); err != nil {
			return kc, err
		}
		return kc, k.apply(&kc)
	}
	kc, err := parse("--kube-config", "/etc/kube", "--kube-namespace-prefix", "dp-", "--kube-cpu", "500m", "--kube-memory", "1Gi", "--kube-images", images)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if kc.Kubeconfig != "/etc/kube" || kc.NamespacePrefix != "dp-" || kc.AgentImage != kubernetes.DefaultAgentImage {
		t.Errorf("config = %+v", kc)
	}
	if !kc.Resources.Limits.Cpu().Equal(resource.MustParse("500m")) || !kc.Resources.Requests.Memory().Equal(resource.MustParse("1Gi")) {
		t.Errorf("resources = %+v, want 500m CPU and 1Gi memory requested and limited", kc.Resources)
	}
	if kc.Images["windows-2019"].NodeSelector["pool"] != "win" {
		t.Errorf("images = %+v, want the file's", kc.Images)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--kube-cpu", "lots"}, `--kube-cpu or --kube-memory: cpu "lots"`},
		{[]string{"--kube-images", images + "-missing"}, "--kube-images: kubernetes images file"},
	} {
		if _, err := parse(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parse %q = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
