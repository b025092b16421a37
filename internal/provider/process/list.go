package process

import (
	"context"
	"fmt"
	"sort"

	"github.com/dynpool/dynpool/internal/provider"
)

// List returns one resource per worker of this installation whose agent
// process lives, with the labels rebuilt from the process environment,
// sorted by worker id. The agent is the process started with
// DYNPOOL_AGENT_TOKEN in its environment (the agent keeps it from its
// scripts): a worker whose agent died is gone even while a script it
// started lingers, and Destroy ends that script.
func (p *Provider) List(ctx context.Context) ([]*provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	procs, err := scan(p.cfg.Installation, "")
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	byWorker := make(map[string]*provider.Resource)
	for _, pr := range procs {
		id := pr.env[provider.EnvWorkerID]
		if id == "" || pr.env[provider.EnvAgentToken] == "" || byWorker[id] != nil {
			continue
		}
		labels := make(map[string]string)
		for label, name := range labelEnv {
			if v := pr.env[name]; v != "" {
				labels[label] = v
			}
		}
		byWorker[id] = &provider.Resource{ID: id, Labels: labels}
	}
	out := make([]*provider.Resource, 0, len(byWorker))
	for _, r := range byWorker {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
