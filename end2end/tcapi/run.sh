#!/usr/bin/env bash
# The Tencent Cloud API 3.0 compatible endpoint driven by the official clients: the Python
# SDK (test_sdk.py) and tccli, against the real release binary on loopback. The clients are
# pinned in requirements.txt and installed by scripts/setup.sh --test into a virtual
# environment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$root/${SERVER_BIN:-target/release/havip}
venv=${HAVIP_TOOLS_DIR:-$HOME/.cache/havip-tools}/tcvenv
dir=$(mktemp -d /tmp/havip-tcapi.XXXX)
port=$((3930 + RANDOM % 50)) api=$((3990 + RANDOM % 9))
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

export HAVIP_PASSWORD="tcapi test password"
for who in admin:admin operator:operator viewer:viewer; do
  "$bin" user add "${who%%:*}" --role "${who#*:}" --data-dir "$dir/data" >/dev/null
done
for who in admin operator viewer; do
  "$bin" key create "$who" --data-dir "$dir/data" > "$dir/$who.key"
done
"$bin" serve --listen "127.0.0.1:$port" --api-listen "127.0.0.1:$api" --data-dir "$dir/data" \
  --quota 20 --api-rate 50 > "$dir/serve.log" 2>&1 &
server=$!
for attempt in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/login" && break
  if [ "$attempt" = 100 ]; then
    echo "the console did not answer within 10 s:" >&2
    cat "$dir/serve.log" >&2
    exit 1
  fi
  sleep 0.1
done

export HAVIP_CONSOLE="http://127.0.0.1:$port" HAVIP_API="127.0.0.1:$api" HAVIP_KEYS="$dir"
"$venv/bin/python" -m unittest -v "$here/test_sdk.py"

# tccli, as an operator would run it (its own HOME, keys from the environment)
read -r sid skey < "$dir/viewer.key"
out=$(HOME="$dir" TENCENTCLOUD_SECRET_ID=$sid TENCENTCLOUD_SECRET_KEY=$skey TENCENTCLOUD_REGION=ap-default \
      "$venv/bin/tccli" vpc DescribeHaVips --endpoint "http://127.0.0.1:$api" --Limit 2)
echo "$out" | "$venv/bin/python" -c 'import json,sys; r=json.load(sys.stdin); assert "TotalCount" in r and len(r["HaVipSet"]) <= 2, r; print("tccli DescribeHaVips: TotalCount", r["TotalCount"])'
set +e
err=$(HOME="$dir" TENCENTCLOUD_SECRET_ID=$sid TENCENTCLOUD_SECRET_KEY=wrong TENCENTCLOUD_REGION=ap-default \
      "$venv/bin/tccli" vpc DescribeHaVips --endpoint "http://127.0.0.1:$api" 2>&1)
code=$?
set -e
[ "$code" != 0 ] && echo "$err" | grep -q "AuthFailure.SignatureFailure" \
  || { echo "tccli with a wrong key: exit $code: $err"; exit 1; }
echo "tccli with a wrong SecretKey: refused (exit $code, AuthFailure.SignatureFailure)"
if grep -q "$skey" "$dir/serve.log"; then
  echo "a SecretKey is in the console's log"; exit 1
fi
echo "tcapi: all passed"
