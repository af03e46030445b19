#!/usr/bin/env bash
# The lab's network: a bridge in a "switch" namespace, two CVM namespaces (172.16.16.5 and .6)
# and an agent namespace, each joined to the bridge by a veth created straight into its
# namespace. Nothing touches the root namespace's interfaces or routes.
#   net.sh up RUN      create namespaces RUN-sw, RUN-c1, RUN-c2, RUN-ag
#   net.sh down RUN    kill every process inside them and delete them
set -euo pipefail
cmd=${1:?up|down} run=${2:?run id}
sw=$run-sw

down() {
  for ns in "$run-c1" "$run-c2" "$run-ag" "$sw"; do
    ip netns list | grep -qw "^$ns" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

host() { # name ip mac
  local ns=$run-$1
  ip netns add "$ns"
  ip link add "v-$1" netns "$sw" type veth peer name eth0 netns "$ns"
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$ns" link set eth0 address "$3"
  [ -n "$2" ] && ip -n "$ns" addr add "$2/24" dev eth0
  ip -n "$ns" link set lo up
  ip -n "$ns" link set eth0 up
  ip -n "$sw" link set "v-$1" master br0 up
}

up() {
  down
  ip netns add "$sw"
  ip netns exec "$sw" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip -n "$sw" link add br0 type bridge stp_state 0 forward_delay 0
  ip -n "$sw" link set br0 up
  host c1 172.16.16.5 02:00:00:16:16:05
  host c2 172.16.16.6 02:00:00:16:16:06
  host ag "" 02:00:00:16:16:fe
}

"$cmd"
