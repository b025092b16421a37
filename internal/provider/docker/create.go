package docker

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dynpool/dynpool/internal/provider"
)

// Create makes sure the tenant's network exists, then creates and starts
// the container <NetworkPrefix>-<Installation>-<worker> from the artifact
// image on it (see the package doc for what the container gets). Its
// labels are params.Labels with provider.LabelInstallation,
// provider.LabelWorker and provider.LabelTenant set from the provider and
// params, so List always finds it. The resource's ID is the container id.
//
// An image that is not on the engine is an error that says so (nothing is
// pulled); so is a second Create of the same worker (the name is taken).
// A container that was created but would not start is removed. The
// params.CacheImages are made present on the engine first (see
// [Provider.EnsureImage]); one that cannot be pulled is logged, not an
// error.
func (p *Provider) Create(ctx context.Context, params *provider.CreateParams) (*provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	if !p.makesWorkers {
		return nil, fmt.Errorf("create worker %s: this docker provider runs execution containers only", params.WorkerID)
	}
	if err := p.checkParams(params); err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	serverURL, err := agentServerURL(params.ServerURL)
	if err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	labels := provider.ResourceLabels(params, p.cfg.Installation)
	p.cacheImages(ctx, params.WorkerID, params.CacheImages)
	netName := p.networkName(params.TenantID)
	cc, hc := containerSpec(&p.cfg, params, labels, netName, serverURL)

	id, err := p.createContainer(ctx, params, netName, cc, hc)
	if err != nil {
		return nil, fmt.Errorf("create worker %s: %w", params.WorkerID, err)
	}
	if err := p.client.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		// The container must not outlive a failed Create, even when ctx
		// ended: the caller has no resource id to destroy it by.
		rmErr := p.Destroy(context.WithoutCancel(ctx), id)
		if rmErr != nil {
			p.cfg.Logger.WarnContext(ctx, "remove container that did not start", "worker_id", params.WorkerID, "container_id", id, "error", rmErr)
		}
		return nil, fmt.Errorf("create worker %s: start container of image %q: %w", params.WorkerID, params.Artifact, err)
	}
	p.cfg.Logger.InfoContext(ctx, "worker container started", "worker_id", params.WorkerID,
		"tenant_id", params.TenantID, "container_id", id, "image", params.Artifact, "network", netName)
	return &provider.Resource{ID: id, Labels: labels}, nil
}

// checkParams checks what Create needs of params.
func (p *Provider) checkParams(params *provider.CreateParams) error {
	if !validName.MatchString(params.WorkerID) {
		return fmt.Errorf("%w: worker id %q", ErrInvalidName, params.WorkerID)
	}
	if params.TenantID != "" && !validName.MatchString(params.TenantID) { // "": a standby worker
		return fmt.Errorf("%w: tenant id %q", ErrInvalidName, params.TenantID)
	}
	if params.Artifact == "" {
		return fmt.Errorf("the %q artifact (an image reference) is empty", Name)
	}
	if params.OS != "" && params.OS != "linux" {
		return fmt.Errorf("the docker provider makes linux workers only; image os is %q", params.OS)
	}
	return nil
}

// createContainer ensures the network and creates the container under the
// network's lock, so that a Destroy of the tenant's last worker cannot
// remove the network in between. A network removed meanwhile by another
// process is made again once.
func (p *Provider) createContainer(ctx context.Context, params *provider.CreateParams, netName string, cc *container.Config, hc *container.HostConfig) (string, error) {
	unlock := p.locks.lock("network/" + netName)
	defer unlock()
	for attempt := 0; ; attempt++ {
		if err := p.ensureNetwork(ctx, netName, params.TenantID); err != nil {
			return "", err
		}
		resp, err := p.client.ContainerCreate(ctx, cc, hc, nil, nil, p.containerName(params.WorkerID))
		switch {
		case err == nil:
			for _, w := range resp.Warnings {
				p.cfg.Logger.WarnContext(ctx, "docker warning on container create", "worker_id", params.WorkerID, "warning", w)
			}
			return resp.ID, nil
		case cerrdefs.IsNotFound(err) && p.imageMissing(ctx, params.Artifact):
			return "", fmt.Errorf("image %q is not on the docker engine (the docker provider pulls nothing; pull or load it first): %w", params.Artifact, err)
		case cerrdefs.IsNotFound(err) && attempt == 0:
			continue // the network went away after ensureNetwork
		case cerrdefs.IsConflict(err):
			return "", fmt.Errorf("container %s exists already: %w", p.containerName(params.WorkerID), err)
		default:
			return "", fmt.Errorf("create container of image %q: %w", params.Artifact, err)
		}
	}
}

// imageMissing reports whether the engine says it has no image ref.
func (p *Provider) imageMissing(ctx context.Context, ref string) bool {
	_, err := p.client.ImageInspect(ctx, ref)
	return cerrdefs.IsNotFound(err)
}

// ensureNetwork makes the tenant's bridge network, labelled with the
// installation and the tenant, unless it exists. The caller holds the
// network's lock; a network another process made meanwhile is fine.
func (p *Provider) ensureNetwork(ctx context.Context, name, tenant string) error {
	_, err := p.client.NetworkInspect(ctx, name, network.InspectOptions{})
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect network %s: %w", name, err)
	}
	_, err = p.client.NetworkCreate(ctx, name, network.CreateOptions{
		Driver: "bridge",
		Labels: map[string]string{
			provider.LabelInstallation: p.cfg.Installation,
			provider.LabelTenant:       tenant,
		},
	})
	if err != nil && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("create network %s: %w", name, err)
	}
	if err == nil {
		p.cfg.Logger.InfoContext(ctx, "tenant network created", "tenant_id", tenant, "network", name)
	}
	return nil
}
