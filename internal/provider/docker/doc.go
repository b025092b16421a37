// Package docker is the [provider.Provider] that makes each worker a
// container on a Docker engine, through the engine's Go client. It makes
// linux workers of image builds with a "docker" artifact, an image
// reference that must already be on the engine (the provider pulls
// nothing).
//
// # Flow
//
// [Provider.Create] makes sure the tenant's bridge network
// <NetworkPrefix>-<Installation>-<tenant> exists (invariant 1 of the
// design: workers of different tenants cannot reach each other), then
// creates and starts a container of the artifact image on it. The
// container runs the host's dynpool binary, bind-mounted read-only at
// /dynpool/dynpool, as `dynpool agent`, under the engine's init (so
// orphaned script processes are reaped), unprivileged, without the Docker
// socket, with the worker's labels and the agent's settings in its
// environment. [Provider.List] finds the running containers of this
// installation by the [provider.LabelInstallation] label, so it sees
// containers made before a server restart. [Provider.Destroy] stops and
// removes a container and then the tenant's network once no container of
// this installation is left on it.
//
// # Reaching a server on the host's loopback
//
// A container has a loopback of its own, so a server URL whose host is
// localhost, a loopback address or the unspecified address would reach
// nothing. Create rewrites such a host to host.docker.internal and maps
// that name to the host's gateway address on the default bridge
// ("host.docker.internal:host-gateway", Docker 20.10 and later). The
// server must then accept connections on that address: a server that
// listens on 127.0.0.1 only is still out of reach, so run it with
// `--listen 0.0.0.0:8080` (or the docker0 address, e.g. 172.17.0.1:8080)
// and keep the port closed to other hosts with a firewall. A server URL
// with any other host is passed on unchanged.
package docker
