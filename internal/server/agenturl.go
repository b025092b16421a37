package server

import (
	"fmt"
	"net"
	"net/url"

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
