#!/usr/bin/env bash
# Builds the site (wasm, js, css, public/) into target/site, with each file's compressed
# encodings next to it (`x.br`, `x.gz`) for the server to embed and send as they are: nothing is
# compressed when the console starts.
# - --split: each lazy route's code is a wasm chunk of its own (see app/src/ui/routes.rs); the
#   old chunks go first (their names are positions, not hashes, and every file under pkg/ is
#   embedded).
# - --precompress: brotli at quality 11, window 2^22. Its gzip (libflate) is remade here at
#   zlib's level 9, what browsers get over plain HTTP. An encoding no smaller than the file is
#   dropped, and so is any of a file that is not text or wasm (images other than SVG are
#   compressed already).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf target/site/pkg
cargo leptos build --release --split --precompress --frontend-only
python3 - <<'PY'
import gzip, os
COMPRESSIBLE = {".wasm", ".js", ".css", ".svg", ".json", ".html", ".txt", ".map"}
site = "target/site"
kept = 0
for root, _, names in os.walk(site):
    for name in names:
        if name.endswith((".br", ".gz")):
            continue
        path = os.path.join(root, name)
        data = open(path, "rb").read()
        worth = os.path.splitext(name)[1] in COMPRESSIBLE
        if worth:
            with open(path + ".gz", "wb") as out:
                out.write(gzip.compress(data, 9, mtime=0))
            if not os.path.exists(path + ".br"):
                raise SystemExit(f"{path}.br is missing: build the front end with --precompress")
        for coded in (path + ".br", path + ".gz"):
            if os.path.exists(coded) and (not worth or os.path.getsize(coded) >= len(data)):
                os.remove(coded)
        kept += worth
print(f"compressed (brotli, gzip) for embedding: {kept} files")
PY
