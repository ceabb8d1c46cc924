#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Traffic for the check of contrib's dashboard and rules (tests/test_contrib.c),
# between two network namespaces, NAME-a (10.251.0.1) and NAME-b (10.251.0.2),
# joined by a veth pair:
#   - curl in a asks tests/http_server.py in b for GET /size/1000 (200) and
#     GET /missing (404), over one keep-alive connection;
#   - a connect to a port of b where nothing listens: refused, and the SYN
#     dropped by b (NO_SOCKET);
#   - a UDP datagram to a port of b where nothing listens, dropped by b
#     (NO_SOCKET);
#   - a connection whose first SYN b's firewall drops (NETFILTER_DROP), made
#     by the SYN retransmitted a second later (a retransmit of kind syn).
# Usage: tests/contrib_traffic.sh NAME (8 characters at most); exits 1 when
# something did not go as said. The namespaces go at exit.
set -eu
a=$1-a b=$1-b
dir=$(dirname "$0")
tmp=$(mktemp -d /tmp/sockeye-contrib.XXXXXX)
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null || :
	ip netns del "$a" 2>/dev/null || :
	ip netns del "$b" 2>/dev/null || :
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "$*"; exit 1; }

ip netns add "$a"
ip netns add "$b"
ip link add "$1a" netns "$a" type veth peer name "$1b" netns "$b"
ip -n "$a" addr add 10.251.0.1/24 dev "$1a"
ip -n "$b" addr add 10.251.0.2/24 dev "$1b"
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set "$1a" up
ip -n "$b" link set "$1b" up

ip netns exec "$b" python3 "$dir/http_server.py" 10.251.0.2 > "$tmp/port" &
server=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")
[ -n "$port" ] || fail "the HTTP server did not start"
url=http://10.251.0.2:$port
in_a() { ip netns exec "$a" "$@"; }

codes=$(in_a curl -s --max-time 10 -o /dev/null -o /dev/null -w '%{http_code} ' "$url/size/1000" "$url/missing")
[ "$codes" = "200 404 " ] || fail "HTTP answers: $codes, not 200 404"

status=0
in_a curl -s --max-time 10 -o /dev/null http://10.251.0.2:1/ || status=$?
[ "$status" = 7 ] || fail "connect to a closed port: curl exit $status, not 7 (refused)"

in_a python3 -c "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('10.251.0.2', 1))"
noports=$(ip netns exec "$b" nstat -az UdpNoPorts | awk '/UdpNoPorts/ { print $2 }')
[ "$noports" -ge 1 ] || fail "no UDP datagram to a closed port (UdpNoPorts $noports)"

rule="INPUT -p tcp --dport $port --syn -j DROP"
ip netns exec "$b" iptables -A $rule
# The rule goes once it has dropped a SYN (not after a fixed time: curl may
# take longer than that to start, in an emulated guest).
dropped() { ip netns exec "$b" iptables -L INPUT -v -x -n | awk '/DROP/ { print $1; exit }'; }
(i=0; while [ "$(dropped)" = 0 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
 ip netns exec "$b" iptables -D $rule) &
lifted=$!
code=$(in_a curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$url/size/10")
wait "$lifted"
[ "$code" = 200 ] || fail "after the dropped SYN: $code, not 200"
retrans=$(in_a nstat -az TcpExtTCPSynRetrans | awk '/TcpExtTCPSynRetrans/ { print $2 }')
[ "$retrans" -ge 1 ] || fail "no SYN retransmitted (TcpExtTCPSynRetrans $retrans)"
echo "200 404, refused, SYN retransmitted $retrans time(s)"
