#!/usr/bin/env bash
# The network lab: real namespaces, real keepalived, the real `havip serve` and `havip agent`,
# driven by Playwright (lab.spec.ts). Needs root. Everything it creates is removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run="hv$(printf '%04x' $((RANDOM % 65536)))"
dir=$(mktemp -d "/tmp/havip-lab-$run.XXXX")
cleanup() {
  "$here/net.sh" down "$run" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$here/net.sh" up "$run"
cd "$here/.."
HAVIP_LAB_RUN=$run HAVIP_LAB_DIR=$dir npx playwright test -c lab.config.ts "$@"
