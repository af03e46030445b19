#!/usr/bin/env bash
# The network lab: real namespaces, real keepalived, the real `havip serve` and `havip agent`,
# driven by Playwright (lab.spec.ts). Needs root. Everything it creates is removed on exit,
# also on failure or Ctrl-C.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run="hv$(printf '%04x' $((RANDOM % 65536)))"
dir=$(mktemp -d "/tmp/havip-lab-$run.XXXX")
cleanup() {
  local status=$?
  # on failure, what the processes said (the directory goes with the namespaces)
  if [ "$status" -ne 0 ] && [ -d "$dir/logs" ]; then
    for log in "$dir"/logs/*.log; do
      echo "── last lines of $(basename "$log")"
      tail -n 40 "$log"
    done
  fi
  "$here/net.sh" down "$run" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$here/net.sh" up "$run"

# The agent's raw ARP socket on a veth pair in the agent's namespace: a probe crosses it and
# its own frame does not come back (`agent::socket`'s test, ignored by a plain `cargo test`).
# The same cargo invocation as scripts/test.sh, which builds it: run from there, nothing is
# compiled again.
veth_test=agent::socket::tests::probes_cross_a_veth_pair
if command -v cargo >/dev/null; then
  ip -n "$run-ag" link add vt-a type veth peer name vt-b
  ip -n "$run-ag" link set vt-a up
  ip -n "$run-ag" link set vt-b up
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${HAVIP_BUILD_CACHE:-$HOME/.cache/havip-build}}"
  out=$(cd "$here/../.." && LEPTOS_OUTPUT_NAME=havip CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
        ip netns exec "$run-ag" env HAVIP_TEST_VETH=vt-a,vt-b \
        cargo test --release -p app -p havip --features app/ssr,havip/embed --tests \
        -- --ignored --exact "$veth_test" 2>&1) || { echo "$out"; exit 1; }
  # a filter that matches nothing passes too: the test must have run
  grep -qx "test $veth_test ... ok" <<<"$out" || { echo "$out"; echo "$veth_test did not run"; exit 1; }
  echo "$veth_test: ok"
else
  echo "SKIPPED: $veth_test needs cargo on PATH (scripts/test.sh runs the lab with it)"
fi

cd "$here/.."
HAVIP_LAB_RUN=$run HAVIP_LAB_DIR=$dir npx playwright test -c lab.config.ts "$@"
