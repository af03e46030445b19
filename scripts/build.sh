#!/usr/bin/env bash
# Builds the self-contained release binary target/release/havip (site assets embedded).
# Two steps, so the embedded site is the one just built: the front end (wasm, js, css,
# public/) first, then the server with the `embed` feature.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:${HAVIP_TOOLS_DIR:-$HOME/.cache/havip-tools}/node_modules/.bin:$PATH"
cargo leptos build --release --frontend-only
cargo leptos build --release --server-only --bin-features embed
ls -l target/release/havip
