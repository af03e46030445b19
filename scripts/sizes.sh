#!/usr/bin/env bash
# What the browser downloads: every file of the site bundle, raw and gzipped (-9), and the total
# the first page needs (wasm + js + css).
set -euo pipefail
cd "$(dirname "$0")/.."
total_raw=0
total_gz=0
printf '%-28s %12s %12s\n' "site file" "bytes" "gzip -9"
for f in target/site/pkg/*; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  printf '%-28s %12d %12d\n' "${f#target/site/}" "$raw" "$gz"
  case "$f" in *.wasm | *.js | *.css) total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)) ;; esac
done
printf '%-28s %12d %12d\n' "first page (wasm+js+css)" "$total_raw" "$total_gz"
