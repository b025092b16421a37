package notify

import (
	"testing"
	"time"
)

func TestNotifyWakesWaitersOfItsKeyOnly(t *testing.T) {
	t.Parallel()
	var h Hub
	a1, a2, b := h.Wait("a"), h.Wait("a"), h.Wait("b")
	h.Notify("a")
	for i, c := range []<-chan struct{}{a1, a2} {
		select {
		case <-c:
		case <-time.After(time.Second):
			t.Fatalf("waiter %d of key a not woken", i)
		}
	}
	select {
	case <-b:
		t.Fatal("waiter of key b woken by a notification of key a")
	default:
	}
	if c := h.Wait("a"); c == a1 {
		t.Fatal("a new wait after a notification reuses the closed channel")
	}
}

func TestNotifyWithoutWaitersIsANoop(t *testing.T) {
	t.Parallel()
	var h Hub
	h.Notify("nobody")
	select {
	case <-h.Wait("nobody"):
		t.Fatal("a notification before the wait woke a later waiter")
	default:
	}
}

func TestForgottenKeysDoNotPileUp(t *testing.T) {
	t.Parallel()
	var h Hub
	old := h.Wait("job/w-destroyed")
	h.Forget("job/w-destroyed")
	if h.Len() != 0 {
		t.Fatalf("keys after Forget = %d, want 0", h.Len())
	}
	fresh := h.Wait("job/w-destroyed")
	if fresh == old {
		t.Fatal("a wait after Forget reuses the forgotten channel")
	}
	h.Notify("job/w-destroyed")
	select {
	case <-fresh:
	case <-time.After(time.Second):
		t.Fatal("the fresh waiter was not woken")
	}
}

func TestNotifyPublishesAndDeliverDoesNot(t *testing.T) {
	t.Parallel()
	var h Hub
	var published []string
	h.SetPublisher(func(key string) { published = append(published, key) })
	c := h.Wait("step/1")
	h.Notify("step/1")
	<-c
	d := h.Wait("step/2")
	h.Deliver("step/2") // came from another server: not sent back out
	<-d
	if len(published) != 1 || published[0] != "step/1" {
		t.Fatalf("published %v, want only the key notified here", published)
	}
}
