#!/usr/bin/env bash
# Builds the self-contained release binary target/release/havip (site assets embedded).
# Two steps, so the embedded site is the one just built: the front end (wasm, js, css,
# public/) first, then the server with the `embed` feature.
#
# Skipped when nothing it is built from changed since the last build (a stamp file newer than
# the binary and than every source), so a second `make run` serves in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:${HAVIP_TOOLS_DIR:-$HOME/.cache/havip-tools}/node_modules/.bin:$PATH"
bin=target/release/havip
stamp=target/release/.havip-embedded
sources=(app server vendor style public Cargo.toml Cargo.lock .cargo scripts/build.sh)

# the binary is from this script (`cargo test` rebuilds it without the site: then it is newer
# than the stamp) and no source is newer than it
if [ -f "$stamp" ] && [ -x "$bin" ] && [ ! "$bin" -nt "$stamp" ] &&
   [ -z "$(find "${sources[@]}" -newer "$stamp" -print -quit)" ]; then
  echo "target/release/havip is up to date (nothing changed since it was built)"
  exit 0
fi
rm -f "$stamp"
scripts/front-end.sh
cargo leptos build --release --server-only --bin-features embed
touch "$stamp"
scripts/sizes.sh
ls -l "$bin"
