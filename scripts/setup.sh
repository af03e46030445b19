#!/usr/bin/env bash
# Installs what building (and, with --test, testing) havip needs on a fresh Debian machine.
# Idempotent: every step is skipped when the right version is already there.
set -euo pipefail

CARGO_LEPTOS_VERSION=0.3.11
WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen = "=…"` pin in Cargo.toml
BINARYEN_VERSION=132           # npm's binaryen (Debian's 108 breaks hydration)
TOOLS_DIR="${HAVIP_TOOLS_DIR:-$HOME/.cache/havip-tools}"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Installs the Debian packages (package:file pairs) whose file is missing.
debian_packages() {
  local missing=() pair
  for pair in "$@"; do
    [ -e "${pair#*:}" ] || missing+=("${pair%%:*}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    local as_root=()
    [ "$(id -u)" = 0 ] || as_root=(sudo)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends "${missing[@]}"
  fi
}

# the etcd client's build compiles etcd's protocol files (with protobuf's own)
debian_packages protobuf-compiler:/usr/bin/protoc \
  libprotobuf-dev:/usr/include/google/protobuf/descriptor.proto
export PATH="$HOME/.cargo/bin:$TOOLS_DIR/node_modules/.bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding rust target wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # no --locked: its lockfile wants a crate version the registry lacks
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 10 minutes on 2 cores)"
  # `cargo install --locked` fails on rustc 1.95 (cargo-util-schemas 0.14.2 needs 1.96):
  # unpack the crate, pin that one dependency back, install from the path.
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  crate=$(ls "$HOME"/.cargo/registry/cache/*/cargo-leptos-$CARGO_LEPTOS_VERSION.crate 2>/dev/null | head -n1 || true)
  if [ -z "$crate" ]; then
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked >/dev/null 2>&1 || true
    crate=$(ls "$HOME"/.cargo/registry/cache/*/cargo-leptos-$CARGO_LEPTOS_VERSION.crate | head -n1)
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
    tar -xzf "$crate" -C "$scratch"
    (
      cd "$scratch/cargo-leptos-$CARGO_LEPTOS_VERSION"
      cargo update -p cargo-util-schemas --precise 0.14.1
      CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        cargo install --path . --locked
    )
  fi
fi

if ! wasm-opt --version 2>/dev/null | grep -q "version $BINARYEN_VERSION"; then
  log "installing binaryen@$BINARYEN_VERSION (npm) into $TOOLS_DIR"
  mkdir -p "$TOOLS_DIR"
  [ -f "$TOOLS_DIR/package.json" ] || echo '{"private":true}' > "$TOOLS_DIR/package.json"
  npm install --prefix "$TOOLS_DIR" --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
fi

if [ "$want_test" = 1 ]; then
  debian_packages chromium:/usr/bin/chromium keepalived:/usr/sbin/keepalived \
    iputils-arping:/usr/bin/arping tcpdump:/usr/bin/tcpdump iproute2:/usr/sbin/ip \
    openssl:/usr/bin/openssl curl:/usr/bin/curl etcd-server:/usr/bin/etcd \
    nftables:/usr/sbin/nft
  here=$(cd "$(dirname "$0")/.." && pwd)
  # the official Tencent Cloud clients for the API tests, pinned, in their own environment
  venv="$TOOLS_DIR/tcvenv" wanted="$here/end2end/tcapi/requirements.txt"
  if ! cmp -s "$wanted" "$venv/requirements.txt" 2>/dev/null; then
    log "installing the Tencent Cloud SDK and tccli (pinned) into $venv"
    python3 -c 'import venv, ensurepip' 2>/dev/null || {
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y --no-install-recommends python3-venv
    }
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$wanted"
    cp "$wanted" "$venv/requirements.txt"
  fi
  # each package of end2end/package.json (Playwright, and the OpenID provider of the single
  # sign-on tests), installed from its lock when one is missing
  missing=$(cd "$here/end2end" && node -e '
    const fs = require("fs");
    const wanted = Object.keys(require("./package.json").devDependencies);
    console.log(wanted.filter((p) => !fs.existsSync(`node_modules/${p}/package.json`)).join(" "));')
  if [ -n "$missing" ]; then
    log "installing end2end npm packages ($missing missing)"
    (cd "$here/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
fi
log "tools ready"
