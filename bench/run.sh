#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Overhead benchmark for sockeye (DESIGN.md section 7): in one go, alternate runs of
# each workload with the monitor off and on, and print the median on/off ratio.
#
# usage: bench/run.sh [-n RUNS] [-t SECONDS] [-w WORKLOADS] [-i SECONDS] [-c "MONITOR CMD"]...
#   -n RUNS     runs per state (off and on) per workload, default 10
#   -t SECONDS  length of each workload run, whole seconds, default 3
#   -w LIST     workloads, comma-separated, default iperf3,churn,fin,udp,http
#   -i SECONDS  also run each monitor that long with no workload and report its own
#               CPU use (percent of one core); 0 skips it; default 0
#   -c CMD      monitor command, run from the repo root; repeatable. Default: every
#               command that runs until stopped: "./sockeye top", "./sockeye events",
#               "./sockeye events --no-io", "./sockeye connlat", "./sockeye soconnect",
#               "./sockeye sockstat", "./sockeye http", "./sockeye flows",
#               "./sockeye flows -x -r -e", "./sockeye flows -t"
#
# Workloads, all over loopback: iperf3 (bits/s received), loadgen churn (TCP
# connect/RST-close loop, connections/s), loadgen fin (the same loop closed with FIN),
# loadgen udp (64-byte datagrams received/s), http (requests/s of wrk against nginx
# serving a 615-byte page, keep-alive, 10 connections).
# The table goes to stdout, progress to stderr. Running the real monitor needs root;
# this script does not check, the monitor says so itself.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

RUNS=10
SECS=3
IDLE_SECS=0
CMDS=()
WORKLOADS=(iperf3 churn fin udp http)
ATTACH_TIMEOUT=2	# seconds to wait for a sign that the monitor is attached
SETTLE=0.2		# extra wait after that sign, for the rest of the programs to attach

die() { echo "run.sh: $*" >&2; exit 1; }
usage() { echo "run.sh: $* (usage: bench/run.sh [-n RUNS] [-t SECONDS] [-w WORKLOADS] [-i SECONDS] [-c CMD]...)" >&2; exit 2; }

is_count() { [[ $1 =~ ^[1-9][0-9]{0,3}$ ]]; }

parse_args() {
	local opt
	local wl
	while getopts ":n:t:w:i:c:h" opt; do
		case $opt in
		n) is_count "$OPTARG" || usage "-n needs a whole number from 1 to 9999"; RUNS=$OPTARG ;;
		t) { is_count "$OPTARG" && ((OPTARG <= 3600)); } ||
			usage "-t needs whole seconds from 1 to 3600"
		   SECS=$OPTARG ;;
		i) [[ $OPTARG =~ ^[0-9]{1,4}$ ]] || usage "-i needs whole seconds from 0 to 9999"
		   IDLE_SECS=$OPTARG ;;
		c) [[ -n $OPTARG ]] || usage "-c needs a command"; CMDS+=("$OPTARG") ;;
		w) IFS=, read -ra WORKLOADS <<<"$OPTARG"
		   for wl in "${WORKLOADS[@]}"; do
			[[ $wl =~ ^(iperf3|churn|fin|udp|http)$ ]] || usage "unknown workload '$wl'"
		   done ;;
		h) sed -n '3,24s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
		:) usage "-$OPTARG needs a value" ;;
		*) usage "unknown option -$OPTARG" ;;
		esac
	done
	shift $((OPTIND - 1))
	(($# == 0)) || usage "unexpected argument '$1'"
	((${#CMDS[@]})) || CMDS=("./sockeye top" "./sockeye events" "./sockeye events --no-io"
		"./sockeye connlat" "./sockeye soconnect" "./sockeye sockstat" "./sockeye http"
		"./sockeye flows" "./sockeye flows -x -r -e" "./sockeye flows -t")
}

check_tools() {
	local t
	for t in cc iperf3 jq ss; do
		command -v "$t" >/dev/null || die "$t not found; install it (apt package $t)"
	done
	if wants_http; then
		command -v wrk >/dev/null || die "wrk not found; install it (apt package wrk)"
		command -v nginx >/dev/null || die "nginx not found; install it (apt package nginx-light)"
	fi
	# Background jobs of a script start with SIGINT ignored, and a monitor that does
	# not install its own handler (e.g. "sleep") would then never stop on SIGINT.
	env --default-signal=INT true 2>/dev/null ||
		die "env lacks --default-signal (needs coreutils >= 8.31)"
}

build_loadgen() {
	if [[ ! -x bench/loadgen || bench/loadgen.c -nt bench/loadgen ]]; then
		echo "building bench/loadgen" >&2
		cc -O2 -pthread -o bench/loadgen bench/loadgen.c
	fi
}

# --- clean-up ---------------------------------------------------------------

TMP=
MON_PID=
IPERF_PID=
NGINX_PID=

cleanup() {
	local i
	if [[ -n $MON_PID ]]; then
		# Give the monitor time to detach cleanly before forcing it.
		kill -INT "$MON_PID" 2>/dev/null || true
		for ((i = 0; i < 30; i++)); do
			kill -0 "$MON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$MON_PID" 2>/dev/null || true
	fi
	[[ -z $IPERF_PID ]] || kill "$IPERF_PID" 2>/dev/null || true
	[[ -z $NGINX_PID ]] || kill "$NGINX_PID" 2>/dev/null || true
	wait 2>/dev/null || true
	[[ -z $TMP ]] || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- servers: iperf3 and, for the http workload, nginx ------------------------

# One server of each for the whole run. Neither can report a port the kernel
# chose, so try random high ports that nothing listens on until LAUNCH PORT
# starts one listening there (LAUNCH execs the server, so its pid is the one
# started). Sets SERVER_PID and SERVER_PORT; returns 1 after ten tries.
start_on_free_port() {
	local launch=$1 port
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((40000 + RANDOM % 20000))
		[[ -z $(ss -Hltn "sport = :$port") ]] || continue
		"$launch" "$port" &
		SERVER_PID=$!
		if wait_listening "$SERVER_PID" "$port"; then
			SERVER_PORT=$port
			return 0
		fi
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	done
	return 1
}

wait_listening() {	# pid port
	local i
	for i in {1..40}; do
		kill -0 "$1" 2>/dev/null || return 1
		[[ -z $(ss -Hltn "src 127.0.0.1 and sport = :$2") ]] || return 0
		sleep 0.05
	done
	return 1
}

launch_iperf3() {
	exec iperf3 -s -B 127.0.0.1 -p "$1" >"$TMP/iperf3-server.log" 2>&1
}

start_iperf_server() {
	start_on_free_port launch_iperf3 ||
		die "could not start an iperf3 server on 127.0.0.1: $(tail -n 1 "$TMP/iperf3-server.log")"
	IPERF_PID=$SERVER_PID
	IPERF_PORT=$SERVER_PORT
}

wants_http() { [[ " ${WORKLOADS[*]} " == *" http "* ]]; }

# One worker, serving Debian's default page size from a directory of the run;
# no access log.
launch_nginx() {
	cat >"$TMP/nginx.conf" <<-EOF
		worker_processes 1;
		daemon off;
		pid $TMP/nginx.pid;
		events { worker_connections 1024; }
		http {
			access_log off;
			server { listen 127.0.0.1:$1; root $TMP/www; }
		}
	EOF
	exec nginx -p "$TMP" -e "$TMP/nginx.log" -c "$TMP/nginx.conf"
}

start_nginx_server() {
	mkdir -p "$TMP/www"
	chmod 755 "$TMP" "$TMP/www"
	head -c 615 /dev/zero | tr '\0' x >"$TMP/www/index.html"
	start_on_free_port launch_nginx ||
		die "could not start nginx on 127.0.0.1: $(tail -n 1 "$TMP/nginx.log")"
	NGINX_PID=$SERVER_PID
	NGINX_PORT=$SERVER_PORT
}

# --- workloads: each prints one number, higher is better -------------------

run_iperf3() {
	local json bps err
	# The server may still be closing the previous test ("busy"); retry briefly.
	for _ in 1 2 3; do
		json=$(iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -t "$SECS" -J 2>"$TMP/iperf3-client.err") || true
		bps=$(jq -r '.end.sum_received.bits_per_second // empty' <<<"$json" 2>/dev/null) || true
		if [[ -n $bps ]]; then
			echo "$bps"
			return
		fi
		err=$(jq -r '.error // empty' <<<"$json" 2>/dev/null) || err=$json
		sleep 0.5
	done
	die "iperf3 client failed: ${err:-no result}"
}

run_loadgen() {
	local out
	out=$(bench/loadgen "$1" "$SECS") || die "loadgen $1 failed"
	echo "${out#"$1 "}"
}

run_http() {
	local rps
	rps=$(wrk -t1 -c10 -d"${SECS}s" "http://127.0.0.1:$NGINX_PORT/index.html" |
		awk '/^Requests\/sec:/ { print $2 }')
	[[ -n $rps ]] || die "wrk failed against nginx on port $NGINX_PORT"
	echo "$rps"
}

run_workload() {
	case $1 in
	iperf3) run_iperf3 ;;
	http) run_http ;;
	*) run_loadgen "$1" ;;
	esac
}

# --- monitor ----------------------------------------------------------------

# A BPF link is what attaching creates (libbpf makes one for every tracepoint, fentry
# or kprobe on current kernels), so "the monitor holds a bpf_link fd" means attached.
# Looking at its own fds, not at a global list such as "bpftool prog show", keeps
# other BPF users on the host (tests running alongside) from faking the sign. The
# children are checked too, for monitors started through a wrapper such as sudo.
holds_bpf_link() {
	local pid
	for pid in "$1" $(pgrep -P "$1" || true); do
		[[ -n $(find "/proc/$pid/fd" -lname 'anon_inode:bpf_link' -print -quit 2>/dev/null) ]] &&
			return 0
	done
	return 1
}

# Start the monitor and wait until it is attached: it holds a BPF link or has written
# something. If neither shows within ATTACH_TIMEOUT, go on anyway and count the run
# as unconfirmed in the report.
start_monitor() {
	local cmd=$1 i
	: >"$TMP/mon.out"
	env --default-signal=INT,QUIT bash -c "exec $cmd" >"$TMP/mon.out" 2>"$TMP/mon.err" &
	MON_PID=$!
	for ((i = 0; i < ATTACH_TIMEOUT * 20; i++)); do
		monitor_alive_or_die "$cmd"
		if holds_bpf_link "$MON_PID" || [[ -s $TMP/mon.out || -s $TMP/mon.err ]]; then
			sleep "$SETTLE"	# the first link may come a moment before the last
			monitor_alive_or_die "$cmd"
			return
		fi
		sleep 0.05
	done
	UNCONFIRMED=$((UNCONFIRMED + 1))
}

monitor_alive_or_die() {
	local status=0 err
	kill -0 "$MON_PID" 2>/dev/null && return
	wait "$MON_PID" 2>/dev/null || status=$?
	MON_PID=
	err=$(head -n 3 "$TMP/mon.err")
	die "monitor '$1' exited early (status $status)${err:+: $err}"
}

# SIGINT, as a user's Ctrl-C; escalate if the monitor does not stop within 5 s.
stop_monitor() {
	local cmd=$1 i
	monitor_alive_or_die "$cmd"
	kill -INT "$MON_PID"
	for ((i = 0; i < 50; i++)); do
		kill -0 "$MON_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$MON_PID" 2>/dev/null; then
		echo "run.sh: monitor '$cmd' ignored SIGINT for 5 s, killing it" >&2
		kill -KILL "$MON_PID" 2>/dev/null || true
	fi
	wait "$MON_PID" 2>/dev/null || true
	MON_PID=
	MON_LINES=$(wc -l <"$TMP/mon.out")
	rm -f "$TMP/mon.out" "$TMP/mon.err"
}

# --- measuring --------------------------------------------------------------

# One run; appends "config workload state run value monitor_lines" to the results.
measure() {
	local ci=$1 wl=$2 state=$3 run=$4 value lines=-
	if [[ $state == on ]]; then
		start_monitor "${CMDS[ci]}"
		value=$(run_workload "$wl")
		stop_monitor "${CMDS[ci]}"
		lines=$MON_LINES
	else
		value=$(run_workload "$wl")
	fi
	echo "$ci $wl $state $run $value $lines" >>"$TMP/results"
	printf '  %-28s %-7s %-3s %3d/%d  %s\n' "$(label "$ci")" "$wl" "$state" \
		"$run" "$RUNS" "$value" >&2
}

# Alternate off and on; flip the order every other round (off,on then on,off) so
# that a steady drift, e.g. a warming CPU, does not favour one state.
measure_all() {
	local ci run wl first second
	for ci in "${!CMDS[@]}"; do
		for ((run = 1; run <= RUNS; run++)); do
			if ((run % 2)); then first=off second=on; else first=on second=off; fi
			for wl in "${WORKLOADS[@]}"; do
				measure "$ci" "$wl" "$first" "$run"
				measure "$ci" "$wl" "$second" "$run"
			done
		done
	done
}

label() {
	local cmd=${CMDS[$1]}
	echo "${cmd#./sockeye }"
}

# --- report -----------------------------------------------------------------

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

column_of() {	# config workload state field
	awk -v c="$1" -v w="$2" -v s="$3" -v f="$4" '$1 == c && $2 == w && $3 == s { print $f }' "$TMP/results"
}

# Median of the per-round on/off ratios: each on run against the off run next to it.
pair_ratio_median() {
	join <(column_of "$1" "$2" off 4 | paste - <(column_of "$1" "$2" off 5) | sort -k1,1) \
		<(column_of "$1" "$2" on 4 | paste - <(column_of "$1" "$2" on 5) | sort -k1,1) |
		awk '{ print $3 / $2 }' | median
}

report_row() {
	local ci=$1 wl=$2 off on spread pair lines scale=1 unit
	case $wl in
	iperf3) scale=1e9 unit=Gbit/s ;;
	churn | fin) unit=conn/s ;;
	udp) unit=dgram/s ;;
	http) unit=req/s ;;
	esac
	off=$(column_of "$ci" "$wl" off 5 | median)
	on=$(column_of "$ci" "$wl" on 5 | median)
	spread=$(column_of "$ci" "$wl" off 5 | sort -g |
		awk -v m="$off" '{ v[NR] = $1 } END { printf "%.1f%%", 100 * (v[NR] - v[1]) / m }')
	pair=$(pair_ratio_median "$ci" "$wl")
	lines=$(column_of "$ci" "$wl" on 6 | median)
	awk -v l="$(label "$ci")" -v w="$wl" -v u="$unit" -v s="$scale" -v off="$off" \
		-v on="$on" -v p="$pair" -v sp="$spread" -v ln="$lines" 'BEGIN {
		printf "%-27s %-8s %-8s %11.3f %11.3f %7.3f %10.3f %10s %10d\n",
			l, w, u, off / s, on / s, on / off, p, sp, ln }'
}

report() {
	echo
	echo "# $RUNS runs off + $RUNS runs on per (config, workload), $SECS s each, alternating" \
		"in one go; loopback; nproc=$(nproc) kernel=$(uname -r)"
	printf '%-27s %-8s %-8s %11s %11s %7s %10s %10s %10s\n' config workload unit \
		off_median on_median ratio pair_ratio off_spread mon_lines
	local ci wl
	for ci in "${!CMDS[@]}"; do
		for wl in "${WORKLOADS[@]}"; do
			report_row "$ci" "$wl"
		done
	done
	echo "# ratio = on_median / off_median; pair_ratio = median of each round's on/off;"
	echo "# off_spread = (max - min) / median of the off runs; mon_lines = median lines" \
		"the monitor printed per on run"
	if ((UNCONFIRMED)); then
		echo "# $UNCONFIRMED on runs started after a ${ATTACH_TIMEOUT} s wait without a sign" \
			"that the monitor had attached (no output, no BPF link)"
	fi
}

# The monitor's own CPU time (user + system, from /proc) over IDLE_SECS with no
# workload, as a percentage of one core.
measure_idle() {
	local ci pct
	echo
	echo "# monitor alone for $IDLE_SECS s: its own CPU use"
	printf '%-27s %10s\n' config cpu_percent
	for ci in "${!CMDS[@]}"; do
		start_monitor "${CMDS[ci]}"
		pct=$(cpu_percent "$MON_PID" "$IDLE_SECS")
		stop_monitor "${CMDS[ci]}"
		printf '%-27s %10s\n' "$(label "$ci")" "$pct"
	done
}

cpu_ticks() {	# pid: utime + stime, in clock ticks
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

cpu_percent() {	# pid seconds
	local before after
	before=$(cpu_ticks "$1")
	sleep "$2"
	after=$(cpu_ticks "$1")
	awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v s="$2" \
		'BEGIN { printf "%.2f", 100 * t / hz / s }'
}

main() {
	parse_args "$@"
	check_tools
	build_loadgen
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-bench.XXXXXX")
	: >"$TMP/results"
	UNCONFIRMED=0
	start_iperf_server
	! wants_http || start_nginx_server
	echo "# sockeye overhead: $RUNS off + $RUNS on runs of ${WORKLOADS[*]}, $SECS s each," \
		"nproc=$(nproc) kernel=$(uname -r)" >&2
	measure_all
	report
	((IDLE_SECS == 0)) || measure_idle
}

main "$@"
