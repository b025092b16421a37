#!/usr/bin/env bash
# Builds etcd and kube-apiserver for the tests of internal/provider/kubernetes
# (package kubetest runs them on loopback ports) and prints the line that
# points the tests at them:
#
#   eval "$(bash .ci/kube.sh | grep '^export ')"
#
# Each is built from the Go module proxy in a tools module of its own under
# .ci/kube-tools/ (so the main go.mod stays clean): kube-apiserver from
# k8s.io/kubernetes, etcd from go.etcd.io/etcd/server/v3. The binaries are
# cached in ${XDG_CACHE_HOME:-$HOME/.cache}/dynpool-kube/<version>/bin
# (DYNPOOL_KUBE_CACHE overrides the dynpool-kube directory); <version> names
# both versions and a hash of the tools modules, so a change to them builds
# anew and running the script again changes nothing. The first build takes
# several minutes (most of it kube-apiserver); a cached one, a second.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly tools=.ci/kube-tools

log() { echo "kube.sh: $*" >&2; }

if ! command -v go >/dev/null; then
  log "go is not installed"
  exit 1
fi

# required MODULE GOMOD: the version of MODULE that GOMOD requires.
required() {
  awk -v m="$1" '{ for (i = 1; i < NF; i++) if ($i == m && $(i + 1) ~ /^v/) { print $(i + 1); exit } }' "$2"
}
kube_version=$(required k8s.io/kubernetes "$tools/apiserver/go.mod")
etcd_version=$(required go.etcd.io/etcd/server/v3 "$tools/etcd/go.mod")
if [ -z "$kube_version" ] || [ -z "$etcd_version" ]; then
  log "cannot read the versions from $tools/*/go.mod"
  exit 1
fi
hash=$(cat "$tools"/*/go.mod "$tools"/*/go.sum "$tools"/*/*.go | sha256sum | cut -c 1-12)
bin="${DYNPOOL_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dynpool-kube}/kube-$kube_version-etcd-$etcd_version-$hash/bin"
mkdir -p "$bin"

# build NAME MODULE LDFLAGS: builds the main package of $tools/MODULE into
# $bin/NAME unless it is there. The binary appears under its name only once
# whole, so an interrupted build is not taken for a cached one.
build() {
  local name=$1 module=$2 ldflags=$3
  if [ -x "$bin/$name" ]; then
    log "$name: cached in $bin"
    return
  fi
  log "building $name (a first build takes minutes)"
  local start=$SECONDS
  (cd "$tools/$module" && go build -mod=readonly -buildvcs=false -trimpath -ldflags "$ldflags" -o "$bin/$name.partial" .)
  mv "$bin/$name.partial" "$bin/$name"
  log "$name built in $((SECONDS - start))s"
}

build etcd etcd "-s -w"
# gitVersion is what /version reports; unset it is v0.0.0-master.
build kube-apiserver apiserver "-s -w -X k8s.io/component-base/version.gitVersion=$kube_version"

log "$("$bin/kube-apiserver" --version), etcd $etcd_version, in $bin"
echo "export DYNPOOL_TEST_KUBE_BIN=$bin"
