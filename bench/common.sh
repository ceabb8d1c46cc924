# SPDX-License-Identifier: GPL-2.0-only
# Shared by bench/run.sh and bench/soak.sh (sourced, not run): the benchmark
# lock, free ports, and what a process costs (CPU, resident memory, BPF maps).

LOCK_FILE=/tmp/sockeye-bench.lock

# Benchmarks on a shared machine run one at a time: re-run the calling script
# (its absolute path, then its arguments) under `flock LOCK_FILE` unless it
# already holds it. Call before measuring anything.
hold_bench_lock() {	# script arg...
	[[ -z ${SOCKEYE_BENCH_LOCKED:-} ]] || return 0
	echo "# waiting for $LOCK_FILE (one benchmark at a time)" >&2
	SOCKEYE_BENCH_LOCKED=1 exec flock "$LOCK_FILE" "$@"
}

# Builds the named bench/TOOL.c programs when missing or older than their source.
build_tools() {	# tool...
	local tool
	for tool in "$@"; do
		if [[ ! -x bench/$tool || bench/$tool.c -nt bench/$tool ]]; then
			echo "building bench/$tool" >&2
			cc -O2 -pthread -o "bench/$tool" "bench/$tool.c"
		fi
	done
}

# A random port on 127.0.0.1 that no TCP socket uses now, below the ephemeral
# range (net.ipv4.ip_local_port_range), from which the loads' own connections
# take theirs: a TIME_WAIT there would refuse a server's bind.
free_port() {
	local port low
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	((low > 2048)) || low=32768
	for _ in {1..20}; do
		port=$((1024 + RANDOM % (low - 1024)))
		[[ -n $(ss -Htan "sport = :$port") ]] || { echo "$port"; return 0; }
	done
	return 1
}

# Waits up to 10 s for an agent's /healthz to answer 200; false if it does
# not, or the agent's process has gone.
wait_healthy() {	# url pid
	local i
	for ((i = 0; i < 100; i++)); do
		curl -fs -o /dev/null "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

cpu_ticks() {	# pid: utime + stime, in clock ticks
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

cpu_percent() {	# pid seconds: its CPU use over the next SECONDS, percent of one core
	local before after
	before=$(cpu_ticks "$1")
	sleep "$2"
	after=$(cpu_ticks "$1")
	awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v s="$2" \
		'BEGIN { printf "%.2f", 100 * t / hz / s }'
}

rss_kib() {	# pid: resident memory (VmRSS), KiB
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# The part of the RSS that is BPF ring buffers mapped into the process (the
# kernel's pages, counted in RssFile), KiB.
ring_buffers_kib() {	# pid
	awk '/^[0-9a-f]+-[0-9a-f]+ / { bpf = ($NF == "anon_inode:bpf-map") }
		bpf && /^Rss:/ { kib += $2 } END { print kib + 0 }' "/proc/$1/smaps"
}

# Each BPF object of a kind the process holds, one fdinfo file per line,
# once even if several fds refer to it. kind: bpf-map or bpf-prog.
bpf_fdinfos() {	# pid kind
	local fd id
	local -A seen=()
	for fd in /proc/"$1"/fd/*; do
		[[ $(readlink "$fd" 2>/dev/null) == "anon_inode:$2" ]] || continue
		id=$(awk '/^(map|prog)_id:/ { print $2 }' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null) ||
			continue
		[[ -n $id && -z ${seen[$id]:-} ]] || continue
		seen[$id]=1
		echo "/proc/$1/fdinfo/${fd##*/}"
	done
}

# Kernel memory charged for the BPF maps the process holds (their memlock),
# KiB: not part of its RSS.
maps_memlock_kib() {	# pid
	local infos
	mapfile -t infos < <(bpf_fdinfos "$1" bpf-map)
	((${#infos[@]})) || { echo 0; return; }
	awk '/^memlock:/ { b += $2 } END { print int(b / 1024) }' "${infos[@]}"
}
