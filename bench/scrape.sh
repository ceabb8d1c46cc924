#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The agent beside a busy server: its scrape latency and CPU with no extra
# connections, then with 10,000 TCP connections held open on loopback
# (bench/loadgen hold). The agent refreshes every second (-i 1) here, five
# times as often as by default, so its CPU shows each refresh's work.
#
#   bench/scrape.sh [SCRAPES]   (default 50 scrapes per state)
#
# Prints, per state: median and largest scrape time, the agent's CPU (share of
# one core over 10 s) and its resident memory.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh

SCRAPES=${1:-50}
[[ $SCRAPES =~ ^[1-9][0-9]{0,3}$ ]] || { echo "scrape.sh: SCRAPES: a count, 1 to 9999" >&2; exit 2; }
hold_bench_lock "$PWD/bench/scrape.sh" "$@"
[[ -x sockeye ]] || { echo "scrape.sh: build first: make" >&2; exit 1; }
build_tools loadgen

TMP=$(mktemp -d)
PIN_DIR=/sys/fs/bpf/sockeye-bench-$$
AGENT=
HOLD=
cleanup() {
	[[ -z $HOLD ]] || kill "$HOLD" 2>/dev/null || true
	[[ -z $AGENT ]] || kill "$AGENT" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(free_port) || { echo "scrape.sh: no free port" >&2; exit 1; }
URL=http://127.0.0.1:$PORT/metrics
./sockeye agent --listen "127.0.0.1:$PORT" --pin-dir "$PIN_DIR" -i 1 2>"$TMP/agent.err" &
AGENT=$!
wait_healthy "http://127.0.0.1:$PORT/healthz" "$AGENT" || { cat "$TMP/agent.err" >&2; exit 1; }

scrape_times() {	# seconds per scrape, one a line
	for ((i = 0; i < SCRAPES; i++)); do
		curl -sf -o /dev/null -w '%{time_total}\n' "$URL"
	done
}

measure() {	# label
	local cpu
	sleep 2	# a refresh or two with what is open now
	cpu=$(cpu_percent "$AGENT" 10)
	scrape_times | sort -g | awk -v label="$1" -v cpu="$cpu" -v rss="$(rss_kib "$AGENT")" '
		{ t[NR] = $1 * 1000 }
		END { printf "%-28s %10.2f %10.2f %9s%% %10.1f\n", label, t[int((NR + 1) / 2)], t[NR], cpu, rss / 1024 }'
}

printf '%-28s %10s %10s %10s %10s\n' state median_ms max_ms agent_cpu rss_mib
measure "no extra connections"
bench/loadgen hold 3600 >"$TMP/hold" &
HOLD=$!
until grep -q '^hold' "$TMP/hold"; do
	kill -0 "$HOLD" 2>/dev/null || { echo "scrape.sh: loadgen hold failed" >&2; exit 1; }
	sleep 0.1
done
measure "$(awk '{ print $2 }' "$TMP/hold") connections open"
