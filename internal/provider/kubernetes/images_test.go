package kubernetes

import (
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestLoadImages(t *testing.T) {
	t.Parallel()
	imgs, err := LoadImages(filepath.Join("testdata", "images.yaml"))
	if err != nil {
		t.Fatalf("LoadImages: %v", err)
	}
	win := imgs["windows-2022"]
	if win.NodeSelector["node.example/pool"] != "windows" || len(win.Tolerations) != 1 ||
		win.Tolerations[0] != (corev1.Toleration{Key: "os", Operator: corev1.TolerationOpEqual, Value: "windows", Effect: corev1.TaintEffectNoSchedule}) {
		t.Errorf("windows-2022 = %+v", win)
	}
	if win.Resources == nil || !win.Resources.Limits.Cpu().Equal(resource.MustParse("2")) || !win.Resources.Requests.Memory().Equal(resource.MustParse("4Gi")) {
		t.Errorf("windows-2022 resources = %+v, want 2 CPUs and 4Gi", win.Resources)
	}
	if win.AgentImage != "registry.example/dynpool-agent:1-windows" {
		t.Errorf("windows-2022 agent image = %q", win.AgentImage)
	}
	if u := imgs["ubuntu-22.04"]; u.Resources != nil || u.NodeSelector["node.example/pool"] != "linux" {
		t.Errorf("ubuntu-22.04 = %+v", u)
	}
	for file, want := range map[string]string{
		"images-unknown-key.yaml": `unknown field "nodeSelector"`,
		"images-bad-cpu.yaml":     `image windows-2022: cpu "lots"`,
		"no-such-file.yaml":       "no such file",
	} {
		if _, err := LoadImages(filepath.Join("testdata", file)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadImages(%s) = %v, want an error containing %q", file, err, want)
		}
	}
}
