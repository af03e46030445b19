#!/usr/bin/env bash
# The lab's network: a bridge in a "switch" namespace, two CVM namespaces (172.16.16.5 and .6)
# and two agent namespaces (the second for an agent reporting to another console replica,
# with its own MAC: agents sharing one would each hear the other's probes answered), each joined to the bridge by a veth created straight into its
# namespace; and a management link from the agent namespace (10.99.0.1) to a console
# namespace (10.99.0.2), where the console is served over TLS for the WSS scenario. Nothing
# touches the root namespace's interfaces or routes.
#   net.sh up RUN      create namespaces RUN-sw, RUN-c1, RUN-c2, RUN-ag, RUN-ag2, RUN-cs
#   net.sh down RUN    kill every process inside them and delete them
set -euo pipefail
cmd=${1:?up|down} run=${2:?run id}
sw=$run-sw

down() {
  for ns in "$run-c1" "$run-c2" "$run-ag" "$run-ag2" "$run-cs" "$sw"; do
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
  host ag2 "" 02:00:00:16:16:fd
  # the management link: agent (eth1) <-> console (eth0)
  ip netns add "$run-cs"
  ip netns exec "$run-cs" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add eth1 netns "$run-ag" type veth peer name eth0 netns "$run-cs"
  ip -n "$run-ag" addr add 10.99.0.1/30 dev eth1
  ip -n "$run-cs" addr add 10.99.0.2/30 dev eth0
  ip -n "$run-ag" link set eth1 up
  ip -n "$run-cs" link set lo up
  ip -n "$run-cs" link set eth0 up
}

"$cmd"
