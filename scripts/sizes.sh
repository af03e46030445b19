#!/usr/bin/env bash
# What the browser downloads, raw, gzipped (-9) and in brotli (the embedded `.br`, made by the
# build): the main module (wasm, js, css) and the chunk loader, which every page needs, then per
# page the wasm chunks of its lazy route (from the split manifest) and the page's total. The
# first page, the HAVIP list, and the login are in the main module.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - <<'PY'
import gzip, json, os
pkg = "target/site/pkg"
def size(name):
    path = os.path.join(pkg, name)
    data = open(path, "rb").read()
    br = os.path.getsize(path + ".br") if os.path.exists(path + ".br") else len(data)
    return len(data), len(gzip.compress(data, 9)), br
loader = "__wasm_split.______________________.js"
main = ["havip.wasm", "havip.js", "havip.css"] + ([loader] if os.path.exists(os.path.join(pkg, loader)) else [])
print(f"{'every page needs':40} {'bytes':>10} {'gzip -9':>10} {'brotli':>10}")
base_raw = base_gz = base_br = 0
for name in main:
    raw, gz, br = size(name)
    base_raw, base_gz, base_br = base_raw + raw, base_gz + gz, base_br + br
    print(f"  {name:38} {raw:10} {gz:10} {br:10}")
print(f"{'the first page (the HAVIP list), and login':40} {base_raw:10} {base_gz:10} {base_br:10}")
manifest_path = os.path.join(pkg, "__wasm_split_manifest.json")
manifest = json.load(open(manifest_path)) if os.path.exists(manifest_path) else {}
print(f"{'page (lazy route): its chunks':40} {'bytes':>10} {'gzip -9':>10} {'page total gzip':>16}")
for route, chunks in sorted(manifest.items()):
    if not route.endswith("_view_" + route.rsplit("_", 1)[-1]):
        continue
    raw = gz = 0
    for chunk in chunks:
        r, g, _ = size(chunk + ".wasm")
        raw, gz = raw + r, gz + g
    name = route.strip("_").rsplit("_view_", 1)[0]
    print(f"  {name + f' ({len(chunks)} files)':38} {raw:10} {gz:10} {base_gz + gz:16}")
# the other language's table of messages: not in the bundle, sent with a page in Chinese (or
# fetched when the language is chosen)
import glob
zh = []
for path in sorted(glob.glob("app/i18n/*.json")):
    catalogue = json.load(open(path))
    zh.extend(catalogue[key]["zh-CN"] for key in sorted(catalogue))
table = json.dumps(zh, ensure_ascii=False, separators=(",", ":")).encode()
print(f"{'the Chinese table (' + str(len(zh)) + ' messages), when chosen':40} {len(table):10} {len(gzip.compress(table, 9)):10}")
all_files = [f for f in os.listdir(pkg) if not f.endswith((".br", ".gz"))]
print(f"all {len(all_files)} files of the bundle: {sum(os.path.getsize(os.path.join(pkg, f)) for f in all_files)} bytes")
PY
