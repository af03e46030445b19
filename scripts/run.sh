#!/usr/bin/env bash
# Sets up a fresh machine, builds the release binary and runs the console on 127.0.0.1:3000
# with its database in ./havip-data (created and seeded on first start).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
exec target/release/havip serve --listen "${HAVIP_LISTEN:-127.0.0.1:3000}" --data-dir "${HAVIP_DATA_DIR:-havip-data}"
