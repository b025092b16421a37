#!/usr/bin/env bash
# Starts a container registry on 127.0.0.1:5000 for the tests that pull
# images (execution containers, the worker-tools cache), and prints the
# line to export:
#
#   eval "$(bash .ci/registry.sh)"   # sets DYNPOOL_TEST_REGISTRY=127.0.0.1:5000
#
# The registry is Debian's docker-registry (the CNCF distribution
# registry), installed when missing, with no authentication and its
# storage under /tmp/dynpool-registry. The Docker engine trusts registries
# on 127.0.0.0/8 without TLS, so nothing else needs configuring. Running
# the script again while the registry answers changes nothing.
set -euo pipefail

readonly addr=127.0.0.1:5000
readonly dir=/tmp/dynpool-registry

log() { echo "registry.sh: $*" >&2; }

answers() { curl -fsS -o /dev/null "http://$addr/v2/" 2>/dev/null; }

if answers; then
  log "a registry answers at $addr"
  echo "export DYNPOOL_TEST_REGISTRY=$addr"
  exit 0
fi

if ! command -v docker-registry >/dev/null; then
  log "installing docker-registry"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi

mkdir -p "$dir/data"
cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $addr
YAML
nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &

for _ in $(seq 1 50); do
  if answers; then
    log "registry started at $addr (log: $dir/registry.log)"
    echo "export DYNPOOL_TEST_REGISTRY=$addr"
    exit 0
  fi
  sleep 0.2
done
log "the registry did not answer at $addr within 10 s; its log:"
cat "$dir/registry.log" >&2
exit 1
