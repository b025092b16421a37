package docker

import (
	"context"
	"fmt"
	"io"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"
)

// ImagePresence says how an image came to be on the engine.
type ImagePresence struct {
	// Ref is the image reference as asked for.
	Ref string
	// Pulled is false when the image was on the engine already (cached).
	Pulled bool
	// Took is how long finding or pulling it took.
	Took time.Duration
}

// EnsureImage makes image ref present on the engine: it is found there
// (cached) or pulled once; concurrent calls for one ref wait for one pull.
// A failed pull is an error carrying the engine's or registry's message,
// e.g. `pull image "x": pull access denied for x, repository does not exist`.
func (p *Provider) EnsureImage(ctx context.Context, ref string) (ImagePresence, error) {
	start := time.Now()
	unlock := p.locks.lock("image/" + ref)
	defer unlock()
	_, err := p.client.ImageInspect(ctx, ref)
	if err == nil {
		return ImagePresence{Ref: ref, Took: time.Since(start)}, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return ImagePresence{}, fmt.Errorf("inspect image %q: %w", ref, err)
	}
	rc, err := p.client.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return ImagePresence{}, fmt.Errorf("pull image %q: %w", ref, err)
	}
	defer rc.Close()
	// Errors of a pull that started arrive in its progress stream.
	if err := jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil); err != nil {
		return ImagePresence{}, fmt.Errorf("pull image %q: %w", ref, err)
	}
	return ImagePresence{Ref: ref, Pulled: true, Took: time.Since(start)}, nil
}

// cacheRetry is how long a worker-tools image whose pull failed is not
// tried again when workers are created (a step that needs it still tries).
const cacheRetry = 10 * time.Minute

// cacheImages makes the worker-tools images refs present before a worker
// is created, so that its steps' execution containers need no pull. A ref
// that cannot be pulled is logged and skipped: the worker is still made,
// and a step that needs the image tries again and fails with the message.
// A ref whose pull failed is skipped for cacheRetry, so that an unreachable
// registry does not slow every creation down.
func (p *Provider) cacheImages(ctx context.Context, workerID string, refs []string) {
	for _, ref := range refs {
		p.cacheMu.Lock()
		failed, skip := p.cacheFailed[ref]
		p.cacheMu.Unlock()
		if skip && time.Since(failed) < cacheRetry {
			p.cfg.Logger.DebugContext(ctx, "worker-tools image skipped: its last pull failed", "worker_id", workerID, "image", ref, "failed_at", failed)
			continue
		}
		got, err := p.EnsureImage(ctx, ref)
		p.cacheMu.Lock()
		if err != nil {
			p.cacheFailed[ref] = time.Now()
		} else {
			delete(p.cacheFailed, ref)
		}
		p.cacheMu.Unlock()
		if err != nil {
			p.cfg.Logger.WarnContext(ctx, "worker-tools image not cached", "worker_id", workerID, "image", ref, "error", err,
				"retry_in", cacheRetry.String())
			continue
		}
		p.cfg.Logger.InfoContext(ctx, "worker-tools image cached", "worker_id", workerID, "image", ref,
			"pulled", got.Pulled, "took", got.Took)
	}
}
