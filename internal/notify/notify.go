// Package notify wakes goroutines waiting for something to change under a
// key: a worker registered, a job queued for a worker, a step finished,
// log lines appended to a task. Waiters re-read the store after waking;
// a notification carries no data, so a missed one costs only a poll.
//
// Within one server process the Hub is enough. Replicas on one database
// give it a publisher that sends every key to the others (PostgreSQL
// NOTIFY), whose listeners hand the keys they receive to Deliver.
package notify

import "sync"

// Hub is a set of keyed wake-up channels. The zero value is ready to use.
type Hub struct {
	mu      sync.Mutex
	chans   map[string]chan struct{}
	publish func(key string)
}

// SetPublisher makes Notify also hand every key to publish, which tells
// the other servers. Set it before the hub is used.
func (h *Hub) SetPublisher(publish func(key string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.publish = publish
}

// Wait returns a channel that is closed at the next Notify(key). Take the
// channel before reading the state it guards, so no change is missed.
func (h *Hub) Wait(key string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.chans == nil {
		h.chans = make(map[string]chan struct{})
	}
	c, ok := h.chans[key]
	if !ok {
		c = make(chan struct{})
		h.chans[key] = c
	}
	return c
}

// Notify wakes every waiter of key, here and, through the publisher, on
// the other servers.
func (h *Hub) Notify(key string) {
	h.Deliver(key)
	h.mu.Lock()
	publish := h.publish
	h.mu.Unlock()
	if publish != nil {
		publish(key)
	}
}

// Deliver wakes the waiters of key in this process only: for keys other
// servers published.
func (h *Hub) Deliver(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.chans[key]; ok {
		close(c)
		delete(h.chans, key)
	}
}

// Forget drops key without waking anyone, for a key that may never be
// notified again (a job queue of a worker whose agent stopped polling),
// so such keys do not pile up. A waiter still on it is woken only by its
// own timeout; a later Wait gets a fresh channel.
func (h *Hub) Forget(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.chans, key)
}

// Len returns how many keys have a channel; it is for tests and metrics.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.chans)
}
