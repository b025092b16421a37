package sim

import (
	"context"
	"maps"
	"strconv"
	"sync"

	"github.com/dynpool/dynpool/internal/provider"
)

// Cloud is where simulated machines live, by installation, like the
// account of a real cloud: it outlives the providers made on it. The zero
// value is not ready; use NewCloud. It is safe for concurrent use.
type Cloud struct {
	mu       sync.Mutex
	machines map[string]map[string]*machine // installation → resource id → machine
	next     uint64                         // numbers resource ids
}

// NewCloud returns an empty Cloud.
func NewCloud() *Cloud {
	return &Cloud{machines: make(map[string]map[string]*machine)}
}

// machine is one simulated worker machine.
type machine struct {
	res *provider.Resource
	// stop ends the agent; agentDone is closed once it returned.
	stop      context.CancelFunc
	agentDone chan struct{}
	// destroying is set while a Destroy runs; done is closed when that
	// Destroy ends, successful or not (the waiters then look again).
	destroying bool
	done       chan struct{}
}

// add records m under a fresh resource id "sim-<n>-<worker id>" and
// returns the id.
func (c *Cloud) add(installation string, m *machine, labels map[string]string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.next++
	id := "sim-" + strconv.FormatUint(c.next, 10) + "-" + labels[provider.LabelWorker]
	m.res = &provider.Resource{ID: id, Labels: maps.Clone(labels)}
	byID := c.machines[installation]
	if byID == nil {
		byID = make(map[string]*machine)
		c.machines[installation] = byID
	}
	byID[id] = m
	return id
}

// remove forgets machine id of installation.
func (c *Cloud) remove(installation, id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.machines[installation], id)
	if len(c.machines[installation]) == 0 {
		delete(c.machines, installation)
	}
}

// list returns copies of the resources of installation's machines.
func (c *Cloud) list(installation string) []*provider.Resource {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*provider.Resource, 0, len(c.machines[installation]))
	for _, m := range c.machines[installation] {
		out = append(out, &provider.Resource{ID: m.res.ID, Labels: maps.Clone(m.res.Labels)})
	}
	return out
}

// claim returns machine id of installation for a Destroy to end, marking
// it destroying, or (nil, nil) when it does not exist. When another Destroy
// of it is under way it returns (nil, done), to wait on and look again.
func (c *Cloud) claim(installation, id string) (*machine, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.machines[installation][id]
	switch {
	case m == nil:
		return nil, nil
	case m.destroying:
		return nil, m.done
	}
	m.destroying, m.done = true, make(chan struct{})
	return m, nil
}

// unclaim ends a Destroy of m that failed: m stays, and later Destroys
// may try again.
func (c *Cloud) unclaim(m *machine) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m.destroying = false
	close(m.done)
}

// Len returns how many machines installation has.
func (c *Cloud) Len(installation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.machines[installation])
}
