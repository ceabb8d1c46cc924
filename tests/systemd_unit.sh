#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Checks contrib/sockeye-agent.service against the binary beside it:
#   verify    systemd-analyze verify passes, and the exposure score of
#             systemd-analyze security is under 4 (printed)
#   syscalls  every system call the agent makes, all collectors on, while
#             scraped (strace -f), is one the unit's SystemCallFilter allows
# Usage: tests/systemd_unit.sh verify|syscalls SOCKEYE; exits 77 when a
# tool it needs is missing, 1 on a failed check.
set -eu
what=$1
sockeye=$(realpath "$2")
unit=$(dirname "$0")/../contrib/sockeye-agent.service
tmp=$(mktemp -d /tmp/sockeye-unit.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

need() { command -v "$1" >/dev/null || { echo "no $1"; exit 77; }; }

# The unit as installed, with ExecStart on this binary.
sed "s#^ExecStart=[^ ]*#ExecStart=$sockeye#" "$unit" > "$tmp/sockeye-agent.service"

# A syscall set of systemd's (@system-service), expanded to names.
expand() {
	systemd-analyze syscall-filter --no-pager "$1" |
	awk '!/^ *#/ && !/^@/ { for (i = 1; i <= NF; i++) print $i }' |
	while read -r name; do
		case $name in @*) expand "$name" ;; *) echo "$name" ;; esac
	done
}

case $what in
verify)
	need systemd-analyze
	# The man page is installed apart from the unit: not checked here.
	systemd-analyze verify --man=no "$tmp/sockeye-agent.service"
	score=$(systemd-analyze security --offline=yes --no-pager "$tmp/sockeye-agent.service" |
		sed -n 's/.*Overall exposure level for sockeye-agent.service: \([0-9.]*\).*/\1/p')
	echo "exposure score: $score"
	awk -v s="$score" 'BEGIN { exit !(s != "" && s < 4) }'
	;;
syscalls)
	# The sanitizer build's runtime makes calls of its own and cannot run
	# under ptrace; the unit runs the release build, checked in the plain pass.
	if grep -q __asan_init "$sockeye"; then
		echo "the sanitizer build: checked on the release build"
		exit 77
	fi
	need systemd-analyze
	need strace
	need curl
	for item in $(sed -n 's/^SystemCallFilter=//p' "$tmp/sockeye-agent.service"); do
		case $item in @*) expand "$item" ;; *) echo "$item" ;; esac
	done | sort -u > "$tmp/allowed"
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	strace -f -qq -o "$tmp/trace" "$sockeye" agent --listen "127.0.0.1:$port" \
		--pin-dir "/sys/fs/bpf/sockeye-unit-$$" --collectors bytes,tcp,flows,syscalls,http \
		-i 0.2 --duration 3 >/dev/null 2>"$tmp/err" &
	agent=$!
	i=0
	until curl -sf "http://127.0.0.1:$port/metrics" >/dev/null; do
		i=$((i + 1))
		[ $i -lt 100 ] || { cat "$tmp/err"; echo "the agent never served"; exit 1; }
		sleep 0.1
	done
	wait $agent || { cat "$tmp/err"; echo "the agent failed"; exit 1; }
	awk '{ call = $2; sub(/\(.*/, "", call); if (call ~ /^[a-z_0-9]+$/) print call }' \
		"$tmp/trace" | sort -u > "$tmp/used"
	[ -s "$tmp/used" ] || { echo "strace saw no system call"; exit 1; }
	echo "$(wc -l < "$tmp/used") distinct system calls"
	denied=$(comm -23 "$tmp/used" "$tmp/allowed")
	[ -z "$denied" ] || { echo "not allowed by SystemCallFilter: $denied"; exit 1; }
	;;
*)
	echo "usage: $0 verify|syscalls SOCKEYE" >&2
	exit 2
	;;
esac
