// Package kubernetes is the [provider.Provider] that makes each worker a
// pod on a Kubernetes cluster, through client-go. It makes linux and
// windows workers of image builds with a "kubernetes" artifact, a
// container image reference.
//
// # Flow
//
// [Provider.Create] makes sure the tenant's namespace
// <NamespacePrefix><Installation>-<tenant> exists, with the worker service
// account (no token mounted, bound to no role: workers have no rights on
// the API) and a NetworkPolicy that lets in the tenant's own pods and the
// control plane's namespace only (invariant 1 of the design: workers of
// different tenants cannot reach each other). It then creates the pod
// [podSpec] builds, a pure function of the config and the worker: an init
// container of Config.AgentImage copies the static dynpool binary into an
// emptyDir, and the main container, of the artifact image, runs it as
// `dynpool agent` with the agent's settings in its environment, the
// configured requests and limits, a node selector naming the image's OS
// (kubernetes.io/os, so windows images land on windows nodes) plus the
// image's own, its tolerations, labels naming the installation, worker
// and tenant, and the hash of its template in
// [AnnotationTemplateHash]. [Provider.List] finds the pods of this
// installation by label, in its own namespaces only; a pod that ended (failed,
// evicted, or its agent exited: restartPolicy is Never) is listed Stopped
// and a pod being deleted is not listed, so the fleet's reconciler marks
// the worker lost and deletes its pod. [Provider.Watch] watches the same
// pods and tells the fleet when one ends, so that it reconciles at once
// rather than at its next period. [Provider.Destroy] deletes a pod.
//
// The rest of the lifecycle is the fleet's, as for every provider: pods of
// no live worker are orphans it destroys at start and periodically; a pod
// whose agent does not register within the registration timeout is
// destroyed and stops counting against limits; failed creations back off.
//
// # Namespaces are kept
//
// Destroy leaves the namespace when its last pod goes: deleting a
// namespace takes as long as its controller needs to empty it, and while
// it terminates the next Create for the tenant would be refused. An empty
// namespace costs nothing but its object; each carries the installation
// and tenant labels, so an operator removes those of a deleted tenant with
// `kubectl delete namespace -l dynpool.installation=<id>,dynpool.tenant=<tenant>`.
//
// # Standby workers
//
// A standby worker (no tenant yet) is made in the standby namespace
// <NamespacePrefix><Installation>-standby, whose NetworkPolicy lets in the
// control plane only, not even the namespace's own pods. A pod cannot move
// to another namespace, so [Provider.Bind] only labels it with its tenant;
// it stays isolated from every other worker, its own tenant's included.
//
// # Reaching the server
//
// Agents reach the server at the fleet's server URL (the server's
// --advertise-url), unchanged: a loopback URL means the pod's own loopback.
// The provider neither pulls images nor checks they exist: an image the
// kubelet cannot pull keeps the pod from starting, and the registration
// timeout ends it.
package kubernetes
