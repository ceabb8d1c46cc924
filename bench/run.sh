#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# sockeye's benchmark report (docs/performance.md), what `make bench` runs: in one go,
# alternate runs of each workload with the monitor off and on and print the median
# on/off ratio; then, as asked, each monitor's start-up time, the mean run time of
# each of its BPF programs under the same loads, and its CPU and memory when idle.
# The whole run holds /tmp/sockeye-bench.lock, so benchmarks never overlap.
#
# usage: bench/run.sh [-n RUNS] [-t SECONDS] [-w WORKLOADS] [-u] [-x] [-s RUNS] [-p]
#                     [-f] [-i SECONDS] [-c "MONITOR CMD"]...
#   -n RUNS     runs per state (off and on) per workload, default 10
#   -t SECONDS  length of each workload run, whole seconds, default 3
#   -w LIST     workloads, comma-separated, default iperf3,churn,fin,udp,pipe,http,https;
#               by default http and https run only for monitors whose command
#               mentions http
#   -u          also measure CPU per operation: a fixed number of operations of each
#               workload (as many as one off run of SECONDS made; http and https: a
#               run of SECONDS and the requests wrk made), RUNS times off and on
#               alternating; the whole machine's CPU time (user + system + softirq
#               from /proc/stat) over each run, divided by its operations
#   -x          skip the throughput ratios (with -u, -s, -p, -f or -i)
#   -s RUNS     also time each monitor's start-up, exec to attached (bench/startup.c),
#               median of RUNS; 0 skips it; default 0
#   -p          also print the mean run time of each of the monitor's programs
#               (run_time_ns / run_cnt, kernel.bpf_stats_enabled on for the while)
#               with the monitor running each workload once
#   -f          also profile where the cost goes: each workload once off and once on,
#               with the operations of -u, the whole machine sampled by perf
#               (cpu-clock); the symbols (kernel functions, BPF programs as
#               bpf_prog_TAG_NAME, user-space functions) whose CPU per operation grew
#               most, in extra ns per operation
#   -i SECONDS  also run each monitor that long with no workload and report its own
#               CPU use (percent of one core) and memory; 0 skips it; default 0
#   -c CMD      monitor command, run from the repo root; repeatable. Default: every
#               command that runs until stopped: "./sockeye events", "./sockeye
#               events --no-io", "./sockeye connlat", "./sockeye soconnect",
#               "./sockeye sockstat", "./sockeye sofamily", "./sockeye top",
#               "./sockeye flows", "./sockeye http", "./sockeye http --tls-plaintext",
#               and "./sockeye agent" on a free port with a pin directory of its own
#
# Workloads, all over loopback: iperf3 (bits/s received), loadgen churn (TCP
# connect/RST-close loop, connections/s), loadgen fin (the same loop closed with FIN),
# loadgen udp (64-byte datagrams received/s), loadgen pipe (1-byte writes and reads
# through a pipe, per second: system calls on no socket, the tax a monitor that hooks
# system calls puts on every other program), http (requests/s of wrk against nginx
# serving a 615-byte page, keep-alive, 10 connections), https (the same over TLS,
# nginx and wrk both on the system's OpenSSL, a certificate made for the run).
# The tables go to stdout, progress to stderr. Running the real monitor needs root;
# this script does not check, the monitor says so itself.
set -euo pipefail

SELF=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."
source bench/common.sh

RUNS=10
SECS=3
IDLE_SECS=0
STARTUP_RUNS=0
HOOK_COSTS=0
PROFILE=0
CPU_PER_OP=0
RATIOS=1
CMDS=()
WORKLOADS=(iperf3 churn fin udp pipe http https)
HTTP_FOR_ALL=0	# -w named http or https: every monitor runs it
ATTACH_TIMEOUT=2	# seconds to wait for a sign that the monitor is attached
SETTLE=0.2		# extra wait after that sign, for the rest of the programs to attach
DRAIN=0.3		# wait after a fixed load: the monitor's reader polls every 100 ms

die() { echo "run.sh: $*" >&2; exit 1; }
usage() { echo "run.sh: $* (usage: bench/run.sh [-n RUNS] [-t SECONDS] [-w WORKLOADS] [-u] [-x] [-s RUNS] [-p] [-f] [-i SECONDS] [-c CMD]...)" >&2; exit 2; }

is_count() { [[ $1 =~ ^[1-9][0-9]{0,3}$ ]]; }

parse_args() {
	local opt
	local wl
	while getopts ":n:t:w:uxs:pfi:c:h" opt; do
		case $opt in
		n) is_count "$OPTARG" || usage "-n needs a whole number from 1 to 9999"; RUNS=$OPTARG ;;
		t) { is_count "$OPTARG" && ((OPTARG <= 3600)); } ||
			usage "-t needs whole seconds from 1 to 3600"
		   SECS=$OPTARG ;;
		i) [[ $OPTARG =~ ^[0-9]{1,4}$ ]] || usage "-i needs whole seconds from 0 to 9999"
		   IDLE_SECS=$OPTARG ;;
		s) [[ $OPTARG =~ ^[0-9]{1,2}$ ]] || usage "-s needs a number of runs from 0 to 99"
		   STARTUP_RUNS=$OPTARG ;;
		p) HOOK_COSTS=1 ;;
		f) PROFILE=1 ;;
		u) CPU_PER_OP=1 ;;
		x) RATIOS=0 ;;
		c) [[ -n $OPTARG ]] || usage "-c needs a command"; CMDS+=("$OPTARG") ;;
		w) IFS=, read -ra WORKLOADS <<<"$OPTARG"
		   HTTP_FOR_ALL=1
		   for wl in "${WORKLOADS[@]}"; do
			[[ $wl =~ ^(iperf3|churn|fin|udp|pipe|http|https)$ ]] ||
				usage "unknown workload '$wl'"
		   done ;;
		h) sed -n '3,/^set /s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
		:) usage "-$OPTARG needs a value" ;;
		*) usage "unknown option -$OPTARG" ;;
		esac
	done
	shift $((OPTIND - 1))
	(($# == 0)) || usage "unexpected argument '$1'"
	((${#CMDS[@]})) || CMDS=("./sockeye events" "./sockeye events --no-io"
		"./sockeye connlat" "./sockeye soconnect" "./sockeye sockstat" "./sockeye sofamily"
		"./sockeye top" "./sockeye flows" "./sockeye http" "./sockeye http --tls-plaintext"
		"$(agent_command)")
}

# The agent on a port and pin directory of its own, so that an agent already
# running on the host (or another engineer's) is left alone.
agent_command() {
	local port
	port=$(free_port) || die "no free port for the agent"
	echo "./sockeye agent --listen 127.0.0.1:$port --pin-dir /sys/fs/bpf/sockeye-bench-$$"
}

# Whether monitor ci runs workload wl: the http and https workloads (nginx's
# requests) only for monitors that parse HTTP, unless -w asked for them; for the
# others they are TCP traffic like the rest.
runs_workload() {	# ci wl
	[[ $2 != http* ]] || ((HTTP_FOR_ALL)) || [[ ${CMDS[$1]} == *http* ]]
}

check_tools() {
	local t
	for t in cc iperf3 jq ss bpftool flock; do
		command -v "$t" >/dev/null || die "$t not found; install it (apt package $t)"
	done
	if wants_http || wants_https; then
		command -v wrk >/dev/null || die "wrk not found; install it (apt package wrk)"
		command -v nginx >/dev/null || die "nginx not found; install it (apt package nginx-light)"
	fi
	((PROFILE == 0)) || command -v perf >/dev/null ||
		die "perf not found; install it (apt package linux-perf)"
	! wants_https || command -v openssl >/dev/null ||
		die "openssl not found; install it (apt package openssl)"
	# Background jobs of a script start with SIGINT ignored, and a monitor that does
	# not install its own handler (e.g. "sleep") would then never stop on SIGINT.
	env --default-signal=INT true 2>/dev/null ||
		die "env lacks --default-signal (needs coreutils >= 8.31)"
}

# --- clean-up ---------------------------------------------------------------

TMP=
MON_PID=
IPERF_PID=
NGINX_PID=
NGINX_TLS_PID=
PERF_PID=
STATS_ENABLED_BEFORE=
declare -A OPS=()	# workload: the operations of its fixed runs (-u, -f)

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
	[[ -z $NGINX_TLS_PID ]] || kill "$NGINX_TLS_PID" 2>/dev/null || true
	[[ -z $PERF_PID ]] || kill -INT "$PERF_PID" 2>/dev/null || true
	restore_bpf_stats
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
		port=$(free_port) || continue
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
wants_https() { [[ " ${WORKLOADS[*]} " == *" https "* ]]; }

# One worker, serving Debian's default page size from a directory of the run;
# no access log. NAME is nginx or nginx-tls: the second listens with TLS.
launch_nginx_as() {	# name port
	local listen="127.0.0.1:$2"
	[[ $1 == nginx ]] || listen="$listen ssl; ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem"
	cat >"$TMP/$1.conf" <<-EOF
		worker_processes 1;
		daemon off;
		pid $TMP/$1.pid;
		events { worker_connections 1024; }
		http {
			access_log off;
			server { listen $listen; root $TMP/www; }
		}
	EOF
	exec nginx -p "$TMP" -e "$TMP/$1.log" -c "$TMP/$1.conf"
}

launch_nginx() { launch_nginx_as nginx "$1"; }
launch_nginx_tls() { launch_nginx_as nginx-tls "$1"; }

write_page() {
	[[ ! -e $TMP/www/index.html ]] || return 0
	mkdir -p "$TMP/www"
	chmod 755 "$TMP" "$TMP/www"
	head -c 615 /dev/zero | tr '\0' x >"$TMP/www/index.html"
}

start_nginx_server() {
	write_page
	start_on_free_port launch_nginx ||
		die "could not start nginx on 127.0.0.1: $(tail -n 1 "$TMP/nginx.log")"
	NGINX_PID=$SERVER_PID
	NGINX_PORT=$SERVER_PORT
}

start_nginx_tls_server() {
	write_page
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=localhost -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null ||
		die "openssl could not make the certificate"
	start_on_free_port launch_nginx_tls ||
		die "could not start nginx with TLS on 127.0.0.1: $(tail -n 1 "$TMP/nginx-tls.log")"
	NGINX_TLS_PID=$SERVER_PID
	NGINX_TLS_PORT=$SERVER_PORT
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

run_http() {	# scheme port
	local rps
	rps=$(wrk -t1 -c10 -d"${SECS}s" "$1://127.0.0.1:$2/index.html" |
		awk '/^Requests\/sec:/ { print $2 }')
	[[ -n $rps ]] || die "wrk failed against nginx on port $2 ($1)"
	echo "$rps"
}

run_workload() {
	case $1 in
	iperf3) run_iperf3 ;;
	http) run_http http "$NGINX_PORT" ;;
	https) run_http https "$NGINX_TLS_PORT" ;;
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
				runs_workload "$ci" "$wl" || continue
				measure "$ci" "$wl" "$first" "$run"
				measure "$ci" "$wl" "$second" "$run"
			done
		done
	done
}

# The command without ./sockeye and without the agent's own port and pin directory.
label() {
	local cmd=${CMDS[$1]}
	cmd=${cmd#./sockeye }
	sed -E 's/ --(listen|pin-dir) [^ ]+//g' <<<"$cmd"
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
	pipe) unit=rw/s ;;
	http | https) unit=req/s ;;
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
			! runs_workload "$ci" "$wl" || report_row "$ci" "$wl"
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

# --- CPU per operation -----------------------------------------------------------

# CPU time the whole machine has spent, user + system + softirq of every CPU, in ns.
machine_cpu_ns() {
	awk -v hz="$(getconf CLK_TCK)" '/^cpu / { printf "%.0f\n", ($2 + $4 + $8) * 1e9 / hz }' \
		/proc/stat
}

# What one operation of a workload is, and how many of them the off run of
# SECS seconds made (its number divided by that).
op_unit() {
	case $1 in
	iperf3) echo MiB ;;
	churn | fin) echo conn ;;
	udp) echo dgram ;;
	pipe) echo rw ;;
	http | https) echo req ;;
	esac
}

ops_of_rate() {	# workload rate
	awk -v w="$1" -v r="$2" -v s="$SECS" 'BEGIN {
		if (w == "iperf3") r = r / 8 / 1048576
		printf "%d\n", r * s < 1 ? 1 : r * s }'
}

wrk_requests() {	# scheme port: the requests of one run of SECS
	wrk -t1 -c10 -d"${SECS}s" "$1://127.0.0.1:$2/index.html" |
		awk '/ requests in / { print $1; ok = 1 } END { exit !ok }' ||
		die "wrk failed against nginx on port $2 ($1)"
}

# One run of OPS operations of the workload; prints the operations made. wrk
# has no request count: its run lasts SECS and makes what it makes, which its
# summary says.
run_fixed() {	# workload ops
	case $1 in
	iperf3)
		for _ in 1 2 3; do
			if iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -n "$2M" >/dev/null 2>&1; then
				echo "$2"
				return 0
			fi
			sleep 0.5	# the server may still be closing the previous test
		done
		die "iperf3 client failed for $2 MiB" ;;
	http) wrk_requests http "$NGINX_PORT" ;;
	https) wrk_requests https "$NGINX_TLS_PORT" ;;
	*)
		bench/loadgen "$1" -n "$2" >/dev/null || die "loadgen $1 -n $2 failed"
		echo "$2" ;;
	esac
}

# One run; appends "config workload state run ns_per_op" to the CPU results.
# The monitor starts before the first reading and stops after the last, so its
# start-up and exit are not counted; the wait after the load lets it print
# what the load made, which is counted.
measure_cpu() {	# ci wl state run ops
	local before after made
	[[ $3 == off ]] || start_monitor "${CMDS[$1]}"
	before=$(machine_cpu_ns)
	made=$(run_fixed "$2" "$5")
	sleep "$DRAIN"
	after=$(machine_cpu_ns)
	[[ $3 == off ]] || stop_monitor "${CMDS[$1]}"
	awk -v c="$1" -v w="$2" -v s="$3" -v r="$4" -v ns="$((after - before))" -v o="$made" \
		'BEGIN { printf "%s %s %s %s %.1f\n", c, w, s, r, ns / o }' >>"$TMP/cpu"
	printf '  %-28s %-7s %-3s %3d/%d  %s ops, cpu\n' "$(label "$1")" "$2" "$3" "$4" \
		"$RUNS" "$made" >&2
}

# The operations of each workload: what one off run of SECS seconds makes.
calibrate_ops() {
	local wl
	for wl in "${WORKLOADS[@]}"; do
		OPS[$wl]=$(ops_of_rate "$wl" "$(run_workload "$wl")")
	done
}

measure_cpu_all() {
	local ci run wl first second
	: >"$TMP/cpu"
	((${#OPS[@]})) || calibrate_ops
	for ci in "${!CMDS[@]}"; do
		for ((run = 1; run <= RUNS; run++)); do
			if ((run % 2)); then first=off second=on; else first=on second=off; fi
			for wl in "${WORKLOADS[@]}"; do
				runs_workload "$ci" "$wl" || continue
				measure_cpu "$ci" "$wl" "$first" "$run" "${OPS[$wl]}"
				measure_cpu "$ci" "$wl" "$second" "$run" "${OPS[$wl]}"
			done
		done
	done
	report_cpu
}

cpu_column() {	# config workload state
	awk -v c="$1" -v w="$2" -v s="$3" '$1 == c && $2 == w && $3 == s { print $4, $5 }' "$TMP/cpu"
}

# Each round's on minus its off, ns per operation, one a line.
cpu_extras() {	# config workload
	join <(cpu_column "$1" "$2" off | sort -k1,1) <(cpu_column "$1" "$2" on | sort -k1,1) |
		awk '{ print $3 - $2 }'
}

report_cpu() {
	local ci wl off extra
	echo
	echo "# CPU per operation: $RUNS off + $RUNS on runs of a fixed number of operations," \
		"alternating; CPU = user + system + softirq of the whole machine (/proc/stat)"
	printf '%-27s %-8s %-6s %9s %10s %10s %9s %9s %9s\n' config workload op ops \
		off_ns_op on_ns_op extra_ns extra_min extra_max
	for ci in "${!CMDS[@]}"; do
		for wl in "${WORKLOADS[@]}"; do
			runs_workload "$ci" "$wl" || continue
			off=$(cpu_column "$ci" "$wl" off | cut -d' ' -f2 | median)
			on=$(cpu_column "$ci" "$wl" on | cut -d' ' -f2 | median)
			extra=$(cpu_extras "$ci" "$wl" | sort -g | awk '{ v[NR] = $1 }
				END { print v[1], v[NR] }')
			awk -v l="$(label "$ci")" -v w="$wl" -v u="$(op_unit "$wl")" -v o="${OPS[$wl]}" \
				-v off="$off" -v on="$on" -v m="$(cpu_extras "$ci" "$wl" | median)" \
				-v r="$extra" 'BEGIN { split(r, e, " ")
				printf "%-27s %-8s %-6s %9d %10.0f %10.0f %9.0f %9.0f %9.0f\n",
					l, w, u, o, off, on, m, e[1], e[2] }'
		done
	done
	echo "# extra_ns = median of each round's on - off; extra_min, extra_max: the smallest" \
		"and largest of those; the machine's other work falls into both states"
}

# --- start-up ---------------------------------------------------------------

# Exec to attached for each monitor (bench/startup.c): the agent until its
# /healthz answers, every other command until its last BPF link is made.
measure_startup() {
	local ci cmd words healthz goal out
	echo
	echo "# start-up, exec to attached: median of $STARTUP_RUNS runs (agent: /healthz" \
		"answers; others: the last of their BPF links made)"
	printf '%-27s %9s %9s %9s %6s %7s\n' config median_ms min_ms max_ms links goal_ms
	for ci in "${!CMDS[@]}"; do
		cmd=${CMDS[ci]}
		read -ra words <<<"$cmd"
		healthz=() goal=150
		if [[ $cmd =~ --listen\ ([^ ]+) ]]; then
			healthz=(-u "${BASH_REMATCH[1]}") goal=400
		fi
		out=$(bench/startup -n "$STARTUP_RUNS" "${healthz[@]}" -- "${words[@]}") ||
			die "start-up of '$cmd' failed"
		awk -v l="$(label "$ci")" -v g="$goal" \
			'{ printf "%-27s %9s %9s %9s %6s %7s\n", l, $2, $4, $6, $10, g }' <<<"$out"
	done
}

# --- per-hook cost -------------------------------------------------------------

# The kernel times every BPF program only while kernel.bpf_stats_enabled is 1,
# and that timing costs every program on the host a little, so it is on only
# for this phase, never during the on/off runs, and put back as it was.
enable_bpf_stats() {
	STATS_ENABLED_BEFORE=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
}

restore_bpf_stats() {
	[[ -z $STATS_ENABLED_BEFORE ]] ||
		sysctl -qw kernel.bpf_stats_enabled="$STATS_ENABLED_BEFORE" || true
	STATS_ENABLED_BEFORE=
}

# "name run_cnt run_time_ns" for each program the monitor holds that ran.
program_stats() {	# pid
	local info id cnt ns
	for info in $(bpf_fdinfos "$1" bpf-prog); do
		read -r id cnt ns < <(awk '/^prog_id:/ { id = $2 } /^run_cnt:/ { c = $2 }
			/^run_time_ns:/ { t = $2 } END { print id, c, t }' "$info")
		((cnt > 0)) || continue
		echo "$(bpftool prog show id "$id" -j | jq -r .name) $cnt $ns"
	done
}

# Each monitor runs every one of its workloads once, then the run time of each
# of its programs over all of them is read from the kernel.
measure_hooks() {
	local ci wl
	echo
	echo "# per-hook cost: mean run time of each program (run_time_ns / run_cnt) with" \
		"the monitor through its workloads once, $SECS s each; goal <= 150 ns"
	printf '%-27s %-16s %12s %9s\n' config program runs mean_ns
	enable_bpf_stats
	for ci in "${!CMDS[@]}"; do
		start_monitor "${CMDS[ci]}"
		for wl in "${WORKLOADS[@]}"; do
			! runs_workload "$ci" "$wl" || run_workload "$wl" >/dev/null
		done
		program_stats "$MON_PID" | sort -k1,1 | awk -v l="$(label "$ci")" \
			'{ printf "%-27s %-16s %12d %9.0f\n", l, $1, $2, $3 / $2 }'
		stop_monitor "${CMDS[ci]}"
	done
	restore_bpf_stats
}

# --- idle: CPU and memory --------------------------------------------------------

# The monitor's own CPU time (user + system, from /proc) over IDLE_SECS with no
# workload, as a percentage of one core, and its memory at the end: resident
# (VmRSS, which includes the ring buffers it maps) and, apart, the kernel memory
# of its BPF maps (their memlock), which no RSS shows.
measure_idle() {
	local ci pct
	echo
	echo "# monitor alone for $IDLE_SECS s: its own CPU use and memory (rss_kib includes" \
		"ring buffers mapped, ringbuf_kib; map_kib is kernel memory, not in rss)"
	printf '%-27s %11s %8s %11s %8s\n' config cpu_percent rss_kib ringbuf_kib map_kib
	for ci in "${!CMDS[@]}"; do
		start_monitor "${CMDS[ci]}"
		pct=$(cpu_percent "$MON_PID" "$IDLE_SECS")
		printf '%-27s %11s %8s %11s %8s\n' "$(label "$ci")" "$pct" "$(rss_kib "$MON_PID")" \
			"$(ring_buffers_kib "$MON_PID")" "$(maps_memlock_kib "$MON_PID")"
		stop_monitor "${CMDS[ci]}"
	done
	echo "# goals (docs/performance.md): the agent under 1% of a core and 20 MiB resident"
}

# --- profile -------------------------------------------------------------------

PROFILE_HZ=999	# samples a second on each CPU: about 1 ms of CPU each
PROFILE_TOP=15	# symbols listed per monitor and workload

# One run of the workload's operations with the whole machine sampled, into
# $TMP/STATE.data; the operations made go to PROFILE_OPS. perf starts
# disabled and is switched on and off around the load through its control
# fifos (opened read-write, which never blocks), so its own start and end
# are not in the samples.
profile_run() {	# wl state
	local ctl ack
	rm -f "$TMP/perf-ctl" "$TMP/perf-ack"
	mkfifo "$TMP/perf-ctl" "$TMP/perf-ack"
	perf record -q -a -e cpu-clock -F "$PROFILE_HZ" -D -1 -o "$TMP/$2.data" \
		--control "fifo:$TMP/perf-ctl,$TMP/perf-ack" 2>"$TMP/perf.err" &
	PERF_PID=$!
	exec {ctl}<>"$TMP/perf-ctl" {ack}<>"$TMP/perf-ack"
	echo enable >&"$ctl" && read -r -u "$ack"
	PROFILE_OPS=$(run_fixed "$1" "${OPS[$1]}")
	sleep "$DRAIN"
	echo disable >&"$ctl" && read -r -u "$ack"
	exec {ctl}>&- {ack}>&-
	kill -INT "$PERF_PID"
	# perf record -a exits 130 when stopped by SIGINT, as it is meant to be.
	wait "$PERF_PID" || (($? == 130)) || die "perf record failed: $(tail -n 1 "$TMP/perf.err")"
	PERF_PID=
}

# "samples<TAB>[k] symbol" for every symbol sampled in a run ([k] kernel, [.]
# user), but the idle loop's halt: a CPU waiting is no CPU spent, and a load
# that the monitor slows down waits longer per operation.
profile_samples() {	# state
	perf report -i "$TMP/$1.data" --stdio --sort sym -F sample,sym --percent-limit 0 -q \
		2>/dev/null | awk 'NF >= 3 { n = $1; $1 = ""; sub(/^ +/, ""); print n "\t" $0 }' |
		grep -Ev $'\t\\[k\\] (pv_native_safe_halt|native_safe_halt|default_idle|cpu_idle_poll|poll_idle|intel_idle.*|acpi_idle.*|mwait_idle.*)$' || true
}

# The symbols whose CPU per operation grew most from off to on.
profile_growth() {	# off_ops on_ops
	awk -F'\t' -v off="$1" -v on="$2" -v ns="$((1000000000 / PROFILE_HZ))" '
		FNR == 1 { file++ }
		file == 1 { o[$2] = $1; next }
		{ n[$2] = $1 }
		END {
			for (s in o) if (!(s in n)) n[s] = 0
			for (s in n) printf "%.0f\t%s\n", (n[s] / on - o[s] / off) * ns, s
		}' <(profile_samples off) <(profile_samples on) | sort -t$'\t' -k1,1 -gr
}

measure_profiles() {
	local ci wl off on
	((${#OPS[@]})) || calibrate_ops
	echo
	echo "# profile: each workload once off, once on, the whole machine sampled at" \
		"$PROFILE_HZ Hz a CPU (perf, cpu-clock); the $PROFILE_TOP symbols whose CPU per" \
		"operation grew most, and all BPF programs together"
	printf '%-27s %-8s %9s  %s\n' config workload extra_ns symbol
	for ci in "${!CMDS[@]}"; do
		for wl in "${WORKLOADS[@]}"; do
			runs_workload "$ci" "$wl" || continue
			profile_run "$wl" off
			off=$PROFILE_OPS
			start_monitor "${CMDS[ci]}"
			profile_run "$wl" on
			on=$PROFILE_OPS
			stop_monitor "${CMDS[ci]}"
			printf '  %-28s %-7s profiled\n' "$(label "$ci")" "$wl" >&2
			profile_growth "$off" "$on" | awk -F'\t' -v l="$(label "$ci")" -v w="$wl" \
				-v top="$PROFILE_TOP" '
				NR <= top { printf "%-27s %-8s %9d  %s\n", l, w, $1, $2 }
				$2 ~ /^\[k\] bpf_prog_/ { bpf += $1 }
				END { printf "%-27s %-8s %9d  %s\n", l, w, bpf, "(all bpf_prog_*)" }'
		done
	done
	echo "# extra_ns = (samples on / operations on - samples off / operations off)" \
		"x $((1000000000 / PROFILE_HZ)) ns; one run each: a symbol's figure moves by" \
		"about its square root of samples, and a symbol the load runs too (the TCP" \
		"stack, the scheduler) by the load's own variation between runs"
}

main() {
	parse_args "$@"
	hold_bench_lock "$SELF" "$@"
	check_tools
	build_tools loadgen startup
	TMP=$(mktemp -d "${TMPDIR:-/tmp}/sockeye-bench.XXXXXX")
	: >"$TMP/results"
	UNCONFIRMED=0
	start_iperf_server
	! wants_http || start_nginx_server
	! wants_https || start_nginx_tls_server
	echo "# sockeye benchmark: $RUNS off + $RUNS on runs of ${WORKLOADS[*]}, $SECS s each," \
		"nproc=$(nproc) kernel=$(uname -r) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
	if ((RATIOS)); then
		measure_all
		report
	fi
	((CPU_PER_OP == 0)) || measure_cpu_all
	((STARTUP_RUNS == 0)) || measure_startup
	((HOOK_COSTS == 0)) || measure_hooks
	((PROFILE == 0)) || measure_profiles
	((IDLE_SECS == 0)) || measure_idle
}

main "$@"
