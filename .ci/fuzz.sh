#!/usr/bin/env bash
# Runs each fuzz target briefly (FUZZTIME each, default 10s; 4 targets,
# under a minute and a half with the builds). A failure leaves the input
# that failed in the package's testdata/fuzz/<Target>/: commit it as a
# regression seed along with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
# Each new interesting input is minimized for at most this long; the
# default (60s) would spend the whole budget minimizing.
minimize=${FUZZMINIMIZETIME:-2s}

targets=(
  "./internal/server FuzzAPIBody"
  "./internal/server FuzzAgentBody"
  "./internal/catalog FuzzParse"
  "./internal/variable FuzzParse"
)
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "--- fuzz $pkg $name ($fuzztime)"
  go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize"
done
