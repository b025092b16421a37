package kubernetes

import (
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// imagesFile is the form of the file LoadImages reads:
//
//	images:
//	  windows-2022:                       # a catalog image id
//	    node_selector: {node.example/pool: windows}
//	    tolerations:                      # Kubernetes' own form
//	      - {key: os, operator: Equal, value: windows, effect: NoSchedule}
//	    cpu: "2"                          # request and limit
//	    memory: 4Gi
//	    agent_image: registry.example/dynpool-agent:1-windows
type imagesFile struct {
	Images map[string]struct {
		NodeSelector map[string]string   `json:"node_selector"`
		Tolerations  []corev1.Toleration `json:"tolerations"`
		CPU          string              `json:"cpu"`
		Memory       string              `json:"memory"`
		AgentImage   string              `json:"agent_image"`
	} `json:"images"`
}

// LoadImages reads the per-image settings (--kube-images) from the YAML
// file path. Unknown keys and bad quantities are errors naming the file;
// New checks the node selectors.
func LoadImages(path string) (map[string]ImageConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kubernetes images file: %w", err)
	}
	var f imagesFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		return nil, fmt.Errorf("kubernetes images file %s: %w", path, err)
	}
	out := make(map[string]ImageConfig, len(f.Images))
	for id, img := range f.Images {
		ic := ImageConfig{NodeSelector: img.NodeSelector, Tolerations: img.Tolerations, AgentImage: img.AgentImage}
		if img.CPU != "" || img.Memory != "" {
			r, err := Resources(img.CPU, img.Memory)
			if err != nil {
				return nil, fmt.Errorf("kubernetes images file %s: image %s: %w", path, id, err)
			}
			ic.Resources = &r
		}
		out[id] = ic
	}
	return out, nil
}
