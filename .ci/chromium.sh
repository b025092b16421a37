#!/usr/bin/env bash
# Installs Debian's chromium when it is missing, for the console's browser
# tests (internal/server, TestConsoleInBrowser), and prints the line that
# points them at it:
#
#   eval "$(bash .ci/chromium.sh | grep '^export ')"
#
# Run as root on Debian 12. Running it again changes nothing.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    log "chromium is missing and installing it needs root"
    exit 1
  fi
  log "installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

log "$(chromium --version 2>/dev/null || echo 'chromium (version unknown)')"
echo "export DYNPOOL_TEST_CHROMIUM=$(command -v chromium)"
