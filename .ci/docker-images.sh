#!/usr/bin/env bash
# Builds the images the tests of internal/provider/docker run workers from:
#
#   dynpool-test/worker:busybox   FROM scratch + Debian's static busybox as
#                                 /bin/busybox, with links sh, sleep, echo,
#                                 cat, env, true, test, timeout and, so
#                                 tests can probe the network, nc, wget,
#                                 hostname, ip, ping; empty /work and /tmp.
#
#   dynpool-test/tools:1          the same plus /etc/dynpool-tools holding
#                                 "dynpool-test/tools:1": the execution
#                                 container image of the tests (they tag it
#                                 to stand in for worker-tools tags), which
#                                 a script tells from a worker by that file.
#
#   bash .ci/docker-images.sh
#
# Nothing is pulled (there may be no registry): the image starts FROM
# scratch, and its busybox comes from the Debian package busybox-static,
# installed when /bin/busybox is missing or not statically linked. A RUN
# step cannot work in scratch (no shell yet), so the root file system,
# links included, is prepared in a temporary directory and COPYed in.
#
# The image carries the label dynpool.content-hash, a hash of everything it
# is built from; when an image of that name already has the same hash the
# build is skipped, so running the script again changes nothing. Run as
# root on Debian 12 (it may install busybox-static) with a Docker engine.
set -euo pipefail

readonly image=dynpool-test/worker:busybox
readonly tools_image=dynpool-test/tools:1
readonly hash_label=dynpool.content-hash
readonly links=(sh sleep echo cat env true test timeout nc wget hostname ip ping)

log() { echo "docker-images.sh: $*" >&2; }

if ! docker version >/dev/null 2>&1; then
  log "the Docker engine does not answer (docker version failed)"
  exit 1
fi

# is_static reports whether $1 is an executable that needs no dynamic
# loader (ldd exits non-zero on "not a dynamic executable").
is_static() {
  [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1
}

busybox=/bin/busybox
if ! is_static "$busybox"; then
  if [ "$(id -u)" -ne 0 ]; then
    log "$busybox is missing or not static, and only root can install busybox-static"
    exit 1
  fi
  log "installing busybox-static (for a static $busybox)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
  if ! is_static "$busybox"; then
    log "$busybox is still missing or not static after installing busybox-static"
    exit 1
  fi
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/work" "$tmp/rootfs/tmp"
chmod 1777 "$tmp/rootfs/tmp"
cp "$busybox" "$tmp/rootfs/bin/busybox"
chmod 0755 "$tmp/rootfs/bin/busybox"
for l in "${links[@]}"; do
  ln -s busybox "$tmp/rootfs/bin/$l"
done

cat >"$tmp/Dockerfile.in" <<'EOF'
FROM scratch
COPY rootfs/ /
ENV PATH=/bin
WORKDIR /work
CMD ["/bin/sh"]
EOF

# The hash covers the Dockerfile, the busybox binary and the link names, so
# a change to the list of links rebuilds the image.
hash=$( { cat "$tmp/Dockerfile.in"; sha256sum <"$tmp/rootfs/bin/busybox"; printf '%s\n' "${links[@]}"; } | sha256sum | cut -c1-32)

# build_if_changed IMAGE DIR HASH builds DIR/Dockerfile.in (plus the hash
# label) as IMAGE unless IMAGE already carries HASH.
build_if_changed() {
  local name=$1 dir=$2 hash=$3 have
  have=$(docker image inspect -f "{{ index .Config.Labels \"$hash_label\" }}" "$name" 2>/dev/null || true)
  if [ "$have" = "$hash" ]; then
    log "$name is up to date ($hash_label=$hash)"
    return
  fi
  { cat "$dir/Dockerfile.in"; echo "LABEL $hash_label=$hash"; } >"$dir/Dockerfile"
  rm "$dir/Dockerfile.in"
  log "building $name ($hash_label=$hash)"
  # The legacy builder needs no buildx plugin and pulls nothing for
  # scratch or a local base image.
  DOCKER_BUILDKIT=0 docker build -q -t "$name" "$dir" >/dev/null
  log "built $name"
}

build_if_changed "$image" "$tmp" "$hash"

mkdir -p "$tmp/tools"
cat >"$tmp/tools/Dockerfile.in" <<EOF
FROM $image
RUN echo "$tools_image" >/etc/dynpool-tools
EOF
# The tools image's hash also covers its own Dockerfile.
tools_hash=$( { echo "$hash"; cat "$tmp/tools/Dockerfile.in"; } | sha256sum | cut -c1-32)
build_if_changed "$tools_image" "$tmp/tools" "$tools_hash"
