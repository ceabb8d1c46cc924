#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Soak test, what `make soak` runs (docs/performance.md: no crash, leak or unbounded
# growth under sustained churn): the agent and `sockeye events` run together for
# SOAK_SECONDS (default 600) under a TCP connect/close loop (RST and FIN in turn,
# bench/loadgen) and iperf3 bulk traffic, all over loopback. Every SAMPLE_SECONDS
# it records both processes' resident memory and the entries of each of their
# hash maps. It passes when
#   - both run to the end and stop on SIGINT with status 0,
#   - each one's resident memory grew by under 5% from the end of the first minute
#     (of the first half, for runs under two minutes) to the end,
#   - no hash map filled up, and none held, at a later sample, more entries than 4
#     times its most in that first stretch plus 1000 plus the socket fds open on the
#     host then (every process, every namespace: `events` keeps an entry per socket
#     of the host, other users' included). Entries follow the sockets open at each sample, so
#     they move; but the loop makes about 20,000 connections a second, and an entry
#     left behind by even one in a thousand would add over 10,000 in ten minutes.
# Prints the figures and "soak: PASS" or "soak: FAIL: why"; exits 1 on failure.
# Holds /tmp/sockeye-bench.lock throughout. Needs root, iperf3, bpftool, jq, curl.
set -euo pipefail

SELF=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."
source bench/common.sh

SOAK_SECONDS=${SOAK_SECONDS:-600}
SAMPLE_SECONDS=${SAMPLE_SECONDS:-15}
RSS_GROWTH_LIMIT=5	# percent
# Hash-like map types, whose entries come and go: hash, per-CPU hash, LRU
# hash, LRU per-CPU hash (include/uapi/linux/bpf.h).
HASH_TYPES=" 1 5 9 10 "

die() { echo "soak: $*" >&2; exit 2; }

[[ $SOAK_SECONDS =~ ^[0-9]+$ ]] && ((SOAK_SECONDS >= 30)) ||
	die "SOAK_SECONDS must be whole seconds, at least 30"
[[ $SAMPLE_SECONDS =~ ^[0-9]+$ ]] && ((SAMPLE_SECONDS >= 1)) ||
	die "SAMPLE_SECONDS must be whole seconds, at least 1"
for t in cc iperf3 bpftool jq curl flock ss; do
	command -v "$t" >/dev/null || die "$t not found; install it"
done
hold_bench_lock "$SELF" "$@"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-soak.XXXXXX")
PIN_DIR=/sys/fs/bpf/sockeye-soak-$$
declare -A PID=()	# agent, events: the processes under test
LOAD_PIDS=()

cleanup() {
	local p
	stop_load
	for p in "${PID[@]}"; do
		kill -INT "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}

# SIGTERM: a script's background jobs ignore SIGINT. The loop's loadgen goes too.
stop_load() {
	local p
	for p in "${LOAD_PIDS[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null || true
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true	# quietly: no "Terminated" line
	done
	LOAD_PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- what runs -----------------------------------------------------------------

start_monitors() {
	local port
	port=$(free_port) || die "no free port for the agent"
	AGENT_URL=http://127.0.0.1:$port/healthz
	env --default-signal=INT ./sockeye agent --listen "127.0.0.1:$port" --pin-dir "$PIN_DIR" \
		>/dev/null 2>"$TMP/agent.err" &
	PID[agent]=$!
	env --default-signal=INT ./sockeye events >/dev/null 2>"$TMP/events.err" &
	PID[events]=$!
	wait_healthy "$AGENT_URL" "${PID[agent]}" ||
		fail "the agent did not answer $AGENT_URL within 10 s: $(head -n 3 "$TMP/agent.err")"
}

# Connect/close loops, RST and FIN in turn, and iperf3, until the end.
start_load() {
	local port
	build_tools loadgen
	port=$(free_port) || die "no free port for iperf3"
	iperf3 -s -B 127.0.0.1 -p "$port" >/dev/null 2>&1 &
	LOAD_PIDS+=($!)
	sleep 0.5
	iperf3 -c 127.0.0.1 -p "$port" -t "$SOAK_SECONDS" >/dev/null 2>&1 &
	LOAD_PIDS+=($!)
	# Its stderr apart: the shell says "Terminated" of the loadgen it is running at the end.
	(while :; do bench/loadgen churn 5 >/dev/null; bench/loadgen fin 5 >/dev/null; done) \
		2>"$TMP/loop.err" &
	LOAD_PIDS+=($!)
}

# --- samples --------------------------------------------------------------------

# "seconds name rss_kib" and, per hash map, "seconds name map:NAME entries max_entries".
sample() {	# seconds
	local name info id type max entries
	for name in "${!PID[@]}"; do
		alive "$name" || fail "$name exited: $(head -n 3 "$TMP/$name.err")"
	done
	echo "$1 host sockets $(find /proc/[0-9]*/fd -lname 'socket:*' 2>/dev/null | wc -l)" \
		>>"$TMP/samples"
	for name in "${!PID[@]}"; do
		echo "$1 $name rss $(rss_kib "${PID[$name]}")"
		for info in $(bpf_fdinfos "${PID[$name]}" bpf-map); do
			read -r id type max < <(awk '/^map_id:/ { i = $2 } /^map_type:/ { t = $2 }
				/^max_entries:/ { m = $2 } END { print i, t, m }' "$info")
			[[ $HASH_TYPES == *" $type "* ]] || continue
			entries=$(bpftool map dump id "$id" -j 2>/dev/null | jq length) || continue
			echo "$1 $name map:$(bpftool map show id "$id" -j | jq -r .name) $entries $max"
		done
	done >>"$TMP/samples"
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }

fail() {
	echo "soak: FAIL: $*"
	exit 1
}

# --- verdict ----------------------------------------------------------------------

# Resident memory at the reference time and at the end; fails past the limit.
check_rss() {	# name ref_seconds
	awk -v n="$1" -v ref="$2" -v lim="$RSS_GROWTH_LIMIT" '
		$2 == n && $3 == "rss" { if ($1 <= ref) r = $4; last = $4; if (!first) first = $4 }
		END {
			g = 100 * (last - r) / r
			printf "%-7s rss_kib: start %d, at %d s %d, end %d: growth %.1f%% (limit %d%%)\n",
				n, first, ref, r, last, g, lim
			exit g >= lim
		}' "$TMP/samples"
}

# Each hash map's entries: most in the first stretch, most after, at the end;
# and whether a later sample went over the bound (see the top of this file).
check_maps() {	# ref_seconds
	awk -v ref="$1" '
		$2 == "host" { sockets[$1] = $4 }
		$3 ~ /^map:/ {
			k = $2 " " substr($3, 5); max[k] = $5; last[k] = $4
			if ($4 >= $5) full[k] = 1
			if ($1 <= ref) { if ($4 > early[k]) early[k] = $4; next }
			if ($4 > late[k]) late[k] = $4
			n++; at[n] = $1; key[n] = k; entries[n] = $4
		}
		END {
			for (i = 1; i <= n; i++)
				if (entries[i] > 4 * early[key[i]] + 1000 + sockets[at[i]])
					over[key[i]] = 1
			bad = 0
			for (k in max) {
				ok = !full[k] && !over[k]
				printf "%-28s entries: first stretch max %d, later max %d, end %d, max_entries %d%s\n",
					k, early[k], late[k], last[k], max[k], ok ? "" : "  <- unbounded"
				bad += !ok
			}
			exit bad > 0
		}' "$TMP/samples"
}

# Runs of each of its programs the kernel skipped (recursion_misses), the
# nonzero ones: sockeye counts them as lost, but for its twin_* pairs.
report_skipped() {	# name
	local info id line=""
	for info in $(bpf_fdinfos "${PID[$1]}" bpf-prog); do
		id=$(awk '/^prog_id:/ { print $2 }' "$info")
		line+=$(bpftool prog show id "$id" -j |
			jq -r 'select(.recursion_misses // 0 > 0) | " \(.name) \(.recursion_misses)"')
	done
	echo "$1 runs skipped by the kernel:${line:- none}"
}

stop_monitor() {	# name: SIGINT, status 0 within 5 s
	local status=0 i
	kill -INT "${PID[$1]}"
	for ((i = 0; i < 50; i++)); do
		alive "$1" || break
		sleep 0.1
	done
	alive "$1" && kill -KILL "${PID[$1]}"
	wait "${PID[$1]}" || status=$?
	unset "PID[$1]"
	((status == 0)) || fail "$1 stopped with status $status: $(head -n 3 "$TMP/$1.err")"
}

main() {
	local start elapsed ref verdict=PASS
	ref=$((SOAK_SECONDS >= 120 ? 60 : SOAK_SECONDS / 2))
	echo "# sockeye soak: agent and events for $SOAK_SECONDS s under churn and bulk," \
		"sampled every $SAMPLE_SECONDS s; nproc=$(nproc) kernel=$(uname -r)"
	start_monitors
	start_load
	start=$SECONDS
	while ((elapsed = SECONDS - start, elapsed < SOAK_SECONDS)); do
		sample "$elapsed"
		sleep $((SOAK_SECONDS - elapsed < SAMPLE_SECONDS ? SOAK_SECONDS - elapsed : SAMPLE_SECONDS))
	done
	sample "$SOAK_SECONDS"
	stop_load
	report_skipped events
	report_skipped agent
	stop_monitor events
	stop_monitor agent
	[[ ! -e $PIN_DIR ]] || fail "the agent left its pins in $PIN_DIR"
	check_rss agent "$ref" || verdict=FAIL
	check_rss events "$ref" || verdict=FAIL
	awk '$2 == "host" { if ($4 > m) m = $4 } END { print "host    socket fds: at most " m " at a sample" }' \
		"$TMP/samples"
	check_maps "$ref" || verdict=FAIL
	if [[ $verdict == FAIL ]]; then
		fail "memory or map growth over the limits above"
	fi
	echo "soak: PASS"
}

main "$@"
