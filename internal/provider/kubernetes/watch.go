package kubernetes

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/dynpool/dynpool/internal/provider"
)

var _ provider.Watcher = (*Provider)(nil)

// Watch backoff: a watch that fails or ends sooner than watchMinLife is
// started again after a wait from watchRetryMin doubling to watchRetryMax.
const (
	watchRetryMin = time.Second
	watchRetryMax = 30 * time.Second
	watchMinLife  = 10 * time.Second
)

// Watch watches the pods of this installation until ctx ends and calls
// changed when one ended (failed, evicted, its agent exited), began being
// deleted, or went away: the fleet then lists at once and marks the
// worker lost. A watch that fails or is closed by the API server is
// started again, after a growing wait when it keeps failing.
func (p *Provider) Watch(ctx context.Context, changed func()) {
	wait := watchRetryMin
	for ctx.Err() == nil {
		began := time.Now()
		w, err := p.client.CoreV1().Pods(metav1.NamespaceAll).Watch(ctx, metav1.ListOptions{LabelSelector: p.selector()})
		if err != nil {
			p.cfg.Logger.WarnContext(ctx, "watch worker pods", "error", err, "retry_in", wait.String())
		} else {
			p.drain(w, changed)
		}
		if time.Since(began) >= watchMinLife {
			wait = watchRetryMin
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, watchRetryMax)
	}
}

// drain reads w's events until it closes, calling changed for each that
// tells of a worker pod gone or going.
func (p *Provider) drain(w watch.Interface, changed func()) {
	defer w.Stop()
	for ev := range w.ResultChan() {
		pod, ok := ev.Object.(*corev1.Pod)
		if !ok || !p.owns(pod) {
			continue // an error event ends the watch
		}
		if ev.Type == watch.Deleted || pod.DeletionTimestamp != nil || ended(pod) {
			changed()
		}
	}
}
