#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# `sockeye events`' printing speed with real records (docs/performance.md): the command
# printing everything, as text and then as JSON, into a pipe (counted by `wc -l`),
# while the RST loop (bench/loadgen churn) runs for SECONDS (default 4), ROUNDS times
# (default 3). For each run it prints the records printed, the records the command
# counted lost, the CPU time its process spent while the loop ran, the records per
# CPU second that makes, and the loop's rate without and with the command.
# bench/printrate measures the printer alone; this adds the ring buffer, the real
# records' variety and the writes into a pipe. Holds /tmp/sockeye-bench.lock. Needs root.
set -euo pipefail

SELF=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."
source bench/common.sh

SECONDS_PER_RUN=${1:-4}
ROUNDS=${2:-3}
hold_bench_lock "$SELF" "$@"
build_tools loadgen
[[ -x ./sockeye ]] || { echo "printload: build ./sockeye first" >&2; exit 2; }

loop_rate() {
	bench/loadgen churn "$SECONDS_PER_RUN" | awk '{ print $2 }'
}

# One run: off, then on; prints the figures of one line.
run_once() {	# mode (text|json)
	local mode=$1 json=() dir pid off on t0 t1 records lost=
	[[ $mode == json ]] && json=(--json)
	dir=$(mktemp -d)
	off=$(loop_rate)
	# The lines, and JSON's last lost record (written at exit).
	./sockeye events "${json[@]}" 2>"$dir/err" |
		awk '/^\{"type":"lost"/ { lost = $0 } END { print NR; print lost }' >"$dir/count" &
	sleep 1.5	# loaded and attached
	pid=$(pgrep -n -x sockeye -P "$$")
	t0=$(cpu_ticks "$pid")
	on=$(loop_rate)
	sleep 0.5	# what the loop made, printed
	t1=$(cpu_ticks "$pid")
	kill -INT "$pid"
	wait
	records=$(head -1 "$dir/count")
	if [[ $mode == json ]]; then
		lost=$(sed -n '2s/.*"count":\([0-9]*\).*/\1/p' "$dir/count")
	else
		lost=$(sed -n 's/.* \([0-9]*\) records lost.*/\1/p' "$dir/err")
	fi
	rm -rf "$dir"
	awk -v m="$mode" -v n="$records" -v l="${lost:-0}" -v t=$((t1 - t0)) \
		-v hz="$(getconf CLK_TCK)" -v off="$off" -v on="$on" 'BEGIN {
		printf "%-5s %9d %8d %7.2f %11.0f %8.0f %8.0f %6.3f\n", m, n, l, t / hz,
			t ? n * hz / t : 0, off, on, off ? on / off : 0 }'
}

echo "# events printing everything during bench/loadgen churn $SECONDS_PER_RUN, into a pipe"
printf "%-5s %9s %8s %7s %11s %8s %8s %6s\n" mode records lost cpu_s records/s off/s on/s ratio
for ((round = 0; round < ROUNDS; round++)); do
	run_once text
	run_once json
done
