package server

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"

	"github.com/dynpool/dynpool/internal/catalog"
	"github.com/dynpool/dynpool/internal/provider/kubernetes"
)

// checkAgentURL refuses a kubernetes server whose agents would be handed
// its own listen URL (ownURL) while that URL's host is localhost, a
// loopback or the unspecified address: a pod has a loopback of its own,
// so every agent would fail to register until the registration timeout,
// on every worker. An explicit advertiseURL is taken as given, loopback
// or not: the operator said where agents reach the server (a test node
// that runs agents as local processes does reach the loopback).
func checkAgentURL(providerName, advertiseURL, ownURL string) error {
	if providerName != kubernetes.Name || advertiseURL != "" {
		return nil
	}
	u, err := url.Parse(ownURL)
	if err != nil {
		return fmt.Errorf("agent url %q: %w", ownURL, err)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		return fmt.Errorf("kubernetes provider: pods cannot reach this server at %s (a loopback or unspecified address): set --advertise-url to a URL pods can reach, e.g. http://dynpool.dynpool.svc:8080", ownURL)
	}
	return nil
}

// checkKubeImages refuses per-image kubernetes settings (--kube-images)
// keyed by an id that is no image of the catalog: they would never apply,
// silently (a typo, or an alias id, which a worker never carries).
func checkKubeImages(providerName string, images map[string]kubernetes.ImageConfig, cat *catalog.Catalog) error {
	if providerName != kubernetes.Name {
		return nil
	}
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(images)) {
		if _, ok := cat.Image(id); !ok {
			errs = append(errs, fmt.Errorf("kubernetes images: %q is no image id of the catalog (aliases do not count: name their images)", id))
		}
	}
	return errors.Join(errs...)
}
