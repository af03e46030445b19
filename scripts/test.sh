#!/usr/bin/env bash
# Runs every test: unit and store tests, the Playwright suite in Debian's Chromium against the
# release binary, and (as root) the network-namespace lab. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:${HAVIP_TOOLS_DIR:-$HOME/.cache/havip-tools}/node_modules/.bin:$PATH"
step() { printf '\n\033[1m== %s\033[0m (at %d min %02d s)\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }

step "set-up"
scripts/setup.sh --test

# Compiled code is kept in a cache every clone on this machine shares (deleting it is safe: the
# next run fills it again), so a run compiles only this repository's crates; the site stays in
# target/site.
export CARGO_TARGET_DIR="${HAVIP_BUILD_CACHE:-$HOME/.cache/havip-build}"
# Cargo files this repository's own crates under their names, not under the clone they come
# from: another clone's build of them would pass for this one's. They are rebuilt each run from
# these sources (only the registry's crates are reused): native, and the front end's wasm
# (cargo-leptos builds it under front/).
cargo clean --release -p app -p havip
cargo clean --target-dir "$CARGO_TARGET_DIR/front" --target wasm32-unknown-unknown \
  --profile wasm-release -p app

# One native build serves everything: the site is built first, so the tests' build of
# target/release/havip embeds it and is the self-contained binary the later steps run (two
# packages in one cargo call: their shared dependencies are compiled once).
step "front end (wasm, js, css)"
scripts/front-end.sh
scripts/sizes.sh

step "unit, store and server tests; the release binary with its site embedded"
# what cargo-leptos sets for the server: leptos names the wasm in the page from it at compile
# time (without it the page asks for /pkg/havip_bg.wasm). Optimized at level 1, not 3: the
# same code, compiled in less time (`make run` and `make build` build at 3).
LEPTOS_OUTPUT_NAME=havip CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
  cargo test --release -p app -p havip --features app/ssr,havip/embed
install -D -m 0755 "$CARGO_TARGET_DIR/release/havip" target/release/havip
ls -l target/release/havip

step "the store's tests again, on etcd (the same rules on both backends)"
# the same cargo call, so nothing is compiled again; each test gets an etcd of its own
HAVIP_TEST_STORE=etcd LEPTOS_OUTPUT_NAME=havip CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
  cargo test --release -p app -p havip --features app/ssr,havip/embed \
  --test store --test list_index --test instances --test sso_users

step "crash storms (SIGKILL under concurrent writes; make crash runs 20)"
SERVER_BIN=target/release/havip python3 end2end/crash/crash.py 3

step "Tencent Cloud API 3.0 compatibility (the official Python SDK and tccli)"
SERVER_BIN=target/release/havip end2end/tcapi/run.sh

step "browser tests (Playwright, Debian chromium, release binary)"
(cd end2end && SERVER_BIN=./target/release/havip npx playwright test)
if [ "${CI:-}" = true ]; then
  # every spec works in a region of its own and depends on no other: shown on each CI run by
  # running the specs again, last file first, against a fresh console
  step "browser tests again, the spec files in reverse order"
  (cd end2end && HAVIP_E2E_ORDER=reverse SERVER_BIN=./target/release/havip npx playwright test)
fi

# what did not run, listed again at the end (CI runs as root: there, a skip fails the run)
skipped=()
if [ -x end2end/lab/run.sh ] && [ "$(id -u)" = 0 ]; then
  step "network lab (namespaces, keepalived, real ARP; the agent's raw socket on a veth pair)"
  end2end/lab/run.sh
elif [ -x end2end/lab/run.sh ]; then
  echo "SKIPPED: the lab needs root (network namespaces); run: sudo end2end/lab/run.sh"
  skipped+=("the network lab and the agent's veth test (need root; run: sudo end2end/lab/run.sh)")
  skipped+=("the full-disk test in server/tests/lifecycle.rs (needs root to mount a tmpfs)")
else
  skipped+=("the network lab (end2end/lab/run.sh is missing or not executable)")
fi

if [ ${#skipped[@]} -gt 0 ]; then
  step "skipped"
  printf 'SKIPPED: %s\n' "${skipped[@]}"
  if [ "${CI:-}" = true ]; then
    echo "CI runs as root and runs everything: failing because tests were skipped"
    exit 1
  fi
  step "all tests that ran passed (${#skipped[@]} skipped, listed above)"
else
  step "all tests passed"
fi
