package fleet

import "sync"

// line keeps, on this server, the steps of each tenant's pool that wait
// for a worker because a limit was reached, in arrival order (one queue
// per key, "<tenant>/<pool>"). Only the first of a queue tries again when
// capacity may have come back, so a tenant with a burst of waiting steps
// gets one try per wake-up, as a tenant with one step does (a burst does
// not starve other tenants), and the steps of one pool get workers first
// in, first out. Steps that arrive while their queue is not empty join its
// end rather than try first. With replicas, each server keeps its own
// line.
type line struct {
	mu     sync.Mutex
	queues map[string][]*place
}

// place is one step's place in its queue.
type place struct {
	// turn receives a value when the place becomes the first of its queue.
	turn chan struct{}
}

// join adds a place at the end of key's queue.
func (l *line) join(key string) *place {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.queues == nil {
		l.queues = make(map[string][]*place)
	}
	p := &place{turn: make(chan struct{}, 1)}
	l.queues[key] = append(l.queues[key], p)
	return p
}

// first reports whether p is the first of key's queue.
func (l *line) first(key string, p *place) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queues[key]
	return len(q) > 0 && q[0] == p
}

// waiting reports whether key's queue holds anyone.
func (l *line) waiting(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queues[key]) > 0
}

// leave removes p from key's queue and, when p was first, tells the next
// place it is its turn.
func (l *line) leave(key string, p *place) {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queues[key]
	for i, x := range q {
		if x != p {
			continue
		}
		q = append(q[:i:i], q[i+1:]...)
		if i == 0 && len(q) > 0 {
			select {
			case q[0].turn <- struct{}{}:
			default:
			}
		}
		break
	}
	if len(q) == 0 {
		delete(l.queues, key)
	} else {
		l.queues[key] = q
	}
}
