#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The kernel matrix: runs the test suite inside Debian's cloud kernels booted
# under qemu, and optionally on the host too, then prints one line per run,
# each failing test prefixed by its kernel, and the combined
# "N passed, N failed, N skipped". Exits non-zero on any failure, including a
# guest that never reports (panic, hang: killed after VMTEST_TIMEOUT seconds).
#
# Usage: scripts/vmtest.sh [host] [KERNEL...] [selfcheck]
#   host       the suite on the running kernel, as ./tests/sockeye-tests
#   KERNEL     a series of Debian's cloud kernel (6.1, 6.12) or a linux-image
#              package; the version comes from the archive, never from here
#   selfcheck  then boots the first KERNEL with an init that dies at once and
#              passes only if that guest is counted as failed
# Environment:
#   VMTEST_TIMEOUT  seconds a guest may run (default 2400: the whole suite
#                   took 15 to 21 minutes in emulation on a busy host)
#   VMTEST_FORCE    hook kinds whose forced runs a guest with the preferred
#                   hooks adds (default "kprobe": 6.1 and 5.10 run the
#                   fentry/fexit ones in their whole suite), see FALLBACK_TESTS
#   VMTEST_BROKEN   "panic" (init exits) or "hang" (init sleeps): a broken
#                   guest, which must make this script fail
#   VMTEST_ONLY     test name substrings: run only those (default: all)
#   VMTEST_TEST_TIMEOUT  seconds each test may take in a guest (default 300)
set -eu
cd "$(dirname "$0")/.."

CACHE=build/vmtest
TIMEOUT=${VMTEST_TIMEOUT:-2400}
MEM=1024	# MiB of guest memory, shared with virtiofsd
# Each test's own limit in a guest: emulation is many times slower.
TEST_TIMEOUT=${VMTEST_TEST_TIMEOUT:-300}
FORCE=${VMTEST_FORCE-kprobe}
# Tests of the features that have fallback hooks: run again under each
# forced hook kind, so every path must give the same exact numbers.
FALLBACK_TESTS="top_ events_tcp_lifecycle events_udp_ fallback_ agent_top_from_agent agent_scraped"
# Tests of what user space alone makes of the kernel's numbers (top's
# screens, the dashboards' queries, the agent's TLS, hostile process names):
# the same on every kernel, so each runs in one guest only (and on the
# host). Groups, split by ';': guest N of the list (from 0) runs the groups
# whose place modulo the number of guests is N, so that with the default
# three the oldest kernel, the quickest to run the rest, takes the longest
# group. Forced runs leave out the screens.
ONCE_TESTS="contrib_ top_screen_;agent_tls_;agent_invalid_utf8_ json_and_text_of_process_names"
LEFT_OUT=	# what this guest leaves out, as the runner's "-NAME" arguments

# The "-NAME" arguments for guest $1 (from 0) of $2: the other guests' groups.
left_out() {
	echo "$ONCE_TESTS" | tr ';' '\n' |
		awk -v g="$1" -v n="$2" '(NR - 1) % n != g { for (i = 1; i <= NF; i++) printf " -%s", $i }'
}
# Tests that need nothing but sockeye and the runner (no curl, Python or
# tmux), run first in the guest's own root, busybox alone with no libc at
# all: the release binary must run on any userland.
BARE_TESTS="fallback_features events_tcp_lifecycle connlat_ipv4_and_ipv6 soconnect_results sockstat_counts cli_events_json_lines"
# Modules the guest needs before it has the host's root: virtio-pci,
# virtiofs and overlay (the cloud kernels build some as modules). The rest
# the guest's kernel loads on demand from the kernel package.
MODULES="virtio_pci virtiofs overlay"
VIRTIOFSD=/usr/lib/qemu/virtiofsd
MARK=@@vmtest

die() { echo "vmtest: $*" >&2; exit 2; }

# Debian's older suites, whose kernels the host's own sources do not list
# (5.10 is bullseye's): an apt configuration of the script's own under
# $CACHE/apt, with its own index, so the host's sources and index stay as
# they are. Its index is refreshed once a day.
OLD_SUITES="bullseye bullseye-security"
OLD_APT=$PWD/$CACHE/apt/apt.conf
old_apt() {
	local d=$CACHE/apt s
	if [ ! -e "$OLD_APT" ]; then
		mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts"
		for s in $OLD_SUITES; do
			case $s in
			*-security) echo "deb http://deb.debian.org/debian-security $s main" ;;
			*) echo "deb http://deb.debian.org/debian $s main" ;;
			esac
		done > "$d/sources.list"
		: > "$d/status"
		cat > "$OLD_APT" <<-EOF
		Dir::Etc::SourceList "$PWD/$d/sources.list";
		Dir::Etc::SourceParts "$PWD/$d/parts";
		Dir::State::Lists "$PWD/$d/lists";
		Dir::State::status "$PWD/$d/status";
		Dir::Cache "$PWD/$d/cache";
		EOF
	fi
	if [ -z "$(find "$d/lists" -name '*_Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
		echo "vmtest: updating the index of $OLD_SUITES" >&2
		APT_CONFIG=$OLD_APT apt-get update -qq >/dev/null 2>&1 ||
			die "apt-get update of $OLD_SUITES failed (see APT_CONFIG=$OLD_APT apt-get update)"
	fi
}

# The concrete linux-image package behind a series or a meta-package, in
# the host's index or else the older suites' (then printed with the
# configuration to use, "PACKAGE CONFIG"): linux-image-6.12-cloud-amd64
# exists, 6.1 and 5.10 are the plain cloud meta-package of their suite.
resolve_package() {
	local conf
	for conf in "" old; do
		[ -z "$conf" ] || { old_apt; conf=$OLD_APT; }
		APT_CONFIG=$conf resolve_in "$1" && return 0
	done
	die "no cloud kernel of series $1 in the archive (apt-cache search linux-image-$1)"
}

resolve_in() {
	local pkg dep
	case $1 in
	linux-image-*) pkg=$1 ;;
	*)
		pkg=linux-image-$1-cloud-amd64
		apt-cache show "$pkg" >/dev/null 2>&1 || pkg=linux-image-cloud-amd64 ;;
	esac
	while dep=$(apt-cache depends --important "$pkg" 2>/dev/null |
		    awk '/Depends: linux-image-/ { print $2; exit }') && [ -n "$dep" ]; do
		pkg=$dep
	done
	case $1 in
	linux-image-*) apt-cache show "$pkg" >/dev/null 2>&1 || return 1 ;;
	*) case $pkg in linux-image-"$1".*) ;; *) return 1 ;; esac ;;
	esac
	echo "$pkg${APT_CONFIG:+ $APT_CONFIG}"
}

# Downloads and unpacks a kernel package once; prints its directory.
fetch_kernel() {
	local pkg=$1 ver dir deb
	export APT_CONFIG=${2:-}
	[ -n "$APT_CONFIG" ] || unset APT_CONFIG
	ver=$(apt-cache show "$pkg" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
	[ -n "$ver" ] || die "$pkg: not in the package index (run apt-get update)"
	dir=$CACHE/kernels/${pkg}_$ver
	deb=$CACHE/debs/$(echo "${pkg}_${ver}_amd64.deb" | sed 's/:/%3a/')
	if [ ! -e "$dir/.unpacked" ]; then
		mkdir -p "$CACHE/debs" "$CACHE/kernels"
		if [ ! -e "$deb" ]; then
			echo "vmtest: downloading $pkg $ver" >&2
			(cd "$CACHE/debs" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
				die "apt-get download $pkg=$ver failed"
		fi
		rm -rf "$dir"
		dpkg -x "$deb" "$dir"
		# The index modprobe needs, which the package leaves to its
		# postinst: the guest loads the modules the tests ask for.
		depmod -b "$dir" "$(ls "$dir/boot" | sed -n 's/^vmlinuz-//p' | head -1)"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

# A module's file, and those it depends on first (modinfo reads the
# dependencies from the file: the package ships no modules.dep).
module_order() {
	local moddir=$1 name=$2 file dep
	file=$(find "$moddir" -name "$name.ko" -o -name "$name.ko.xz" | head -1)
	[ -n "$file" ] || return 0	# built in
	for dep in $(modinfo -F depends "$file" | tr , ' '); do
		module_order "$moddir" "$dep"
	done
	echo "$file"
}

write_init() {
	cat > "$1/init" <<-EOF
	#!/bin/busybox sh
	# Mounts the host's root read-only under a tmpfs layer, so the suite
	# finds every tool the host has (curl, Python, tmux, Prometheus...)
	# and nothing it writes reaches the host; runs the suite there from the
	# host's working tree; powers off.
	/bin/busybox --install -s /bin
	export PATH=/bin
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	for m in \$(cat /modules/order); do insmod /modules/\$m || echo "vmtest: insmod \$m failed"; done
	grep -q sockeye.hang /proc/cmdline && sleep 100000
	mkdir -p /host /layer /root
	mount -t virtiofs -o ro hostroot /host
	mount -t tmpfs layer /layer
	mkdir /layer/upper /layer/work
	mount -t overlay root -o lowerdir=/host,upperdir=/layer/upper,workdir=/layer/work /root
	cd /root
	mount -t proc proc proc
	mount -t sysfs sys sys
	mount -t devtmpfs dev dev
	mkdir -p dev/pts dev/shm
	mount -t devpts devpts dev/pts
	mount -t tmpfs shm dev/shm
	# An empty /tmp, unless the working tree is in the host's.
	$(case $PWD in /tmp/*) ;; *) echo "mount -t tmpfs tmp tmp" ;; esac)
	mount -t tmpfs run run
	mount -t tracefs tracefs sys/kernel/tracing
	mount -t bpf bpf sys/fs/bpf
	mount -t cgroup2 cgroup2 sys/fs/cgroup
	ip link set lo up
	# Modules on demand (veth, iptables, inet_diag for ss...): the
	# kernel's modprobe runs in this root, the modules are the package's.
	# Full paths: busybox would run its own applets, through a /proc/self
	# that is the host's until proc is mounted.
	chroot /root /bin/mkdir -p /lib/modules
	chroot /root /bin/ln -sfn '$PWD/$2/lib/modules/$3' /lib/modules/$3
	echo /bin/guest-modprobe > /proc/sys/kernel/modprobe
	run() {
		echo "$MARK-begin \$1"
		chroot /root /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=linux \\
			SOCKEYE_TEST_TIMEOUT=$TEST_TIMEOUT ${SOCKEYE_TEST_VERBOSE:+SOCKEYE_TEST_VERBOSE=1} \\
			SOCKEYE_TEST_KERNEL_ONLY=1 SOCKEYE_FORCE_HOOK=\$2 \\
			sh -c "cd '$PWD' && ./tests/sockeye-tests \$3"
		echo "$MARK-end \$1 \$?"
	}
	# The static release binary and runner in this root, which has no
	# libc: the host's tree is reached under /root.
	mkdir -p /tmp
	mount -t tracefs tracefs /sys/kernel/tracing
	mount -t bpf bpf /sys/fs/bpf
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	echo "$MARK-begin bare"
	(cd "/root$PWD" && env -i PATH=/bin SOCKEYE_TEST_TIMEOUT=$TEST_TIMEOUT ./tests/sockeye-tests $BARE_TESTS)
	echo "$MARK-end bare \$?"
	run default "" "$ONLY $LEFT_OUT"
	# Forced runs only where the preferred hooks exist: elsewhere (6.1)
	# the default run already went through the fallbacks.
	[ -e sys/kernel/tracing/events/sock/sock_send_length ] && for kind in $FORCE; do
		run "\$kind" "\$kind" "$FALLBACK_TESTS -top_screen_"
	done
	poweroff -f
	EOF
	chmod +x "$1/init"
	printf '#!/bin/busybox sh\nexec chroot /root /sbin/modprobe "$@"\n' > "$1/bin/guest-modprobe"
	chmod +x "$1/bin/guest-modprobe"
}

build_initramfs() {
	local kdir=$1 kver=$2 out=$3 root f m base
	root=$CACHE/root-$kver${VMTEST_BROKEN:+-broken}
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/modules"
	cp /bin/busybox "$root/bin/"
	for m in $MODULES; do
		module_order "$kdir/lib/modules/$kver" "$m"
	done | awk '!seen[$0]++' | while read -r f; do
		base=$(basename "$f" .xz)
		case $f in *.xz) xz -dc "$f" > "$root/modules/$base" ;; *) cp "$f" "$root/modules/" ;; esac
		echo "$base" >> "$root/modules/order"
	done
	touch "$root/modules/order"
	write_init "$root" "$kdir" "$kver"
	(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out"
}

# Boots a kernel with its initramfs; the serial console goes to the log.
boot() {
	local kdir=$1 kver=$2 log=$3 append initramfs sock rc=0
	append="console=ttyS0 panic=-1 quiet loglevel=3"
	case ${VMTEST_BROKEN:-} in
	"") ;;
	panic) append="$append rdinit=/bin/false" ;;
	hang) append="$append sockeye.hang" ;;
	*) die "VMTEST_BROKEN: panic or hang, not '$VMTEST_BROKEN'" ;;
	esac
	initramfs=$CACHE/initramfs-$kver${VMTEST_BROKEN:+-broken}.cgz
	build_initramfs "$kdir" "$kver" "$initramfs"
	# virtiofsd locks a pid file named after its socket: the script's pid
	# keeps two runs at once (two trees) apart.
	sock=$CACHE/virtiofs-$$-$kver${VMTEST_BROKEN:+-broken}.sock
	share "$sock" "$log.virtiofsd"
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -nographic -no-reboot -nic none -m "$MEM" -smp 1 \
		-cpu max -kernel "$kdir/boot/vmlinuz-$kver" -initrd "$initramfs" -append "$append" \
		-object memory-backend-memfd,id=mem,size="$MEM"M,share=on -numa node,memdev=mem \
		-chardev socket,id=hostroot,path="$sock" \
		-device vhost-user-fs-pci,chardev=hostroot,tag=hostroot </dev/null >"$log" 2>&1 || rc=$?
	rm -f "$sock"
	return "$rc"
}

# Serves the host's root to one guest over virtiofs (its daemon ends when
# the guest goes); the guest mounts it read-only.
share() {
	local sock=$1
	rm -f "$sock"
	"$VIRTIOFSD" --socket-path="$sock" -o source=/ -o sandbox=chroot -o cache=auto \
		>"$2" 2>&1 &
	while [ ! -S "$sock" ]; do
		kill -0 $! 2>/dev/null || die "virtiofsd did not start (see $2)"
		sleep 0.1
	done
}

# Prints "LABEL: summary", "LABEL: FAIL test" and "LABEL: SKIP test: why"
# lines for each run in a log, and "TOTAL passed failed skipped" last. A run without its end marker, or a
# log without all runs, counts as one failure.
summarize() {
	local label=$1 log=$2 expected=$3
	tr -d '\r' < "$log" | awk -v label="$label" -v mark="$MARK" -v expected="$expected" '
	function tag(run) { return run == "default" || run == "" ? label : label " (" run ")" }
	# The console may put terminal escapes before a marker.
	index($0, mark) > 1 { $0 = substr($0, index($0, mark)) }
	$1 == mark "-begin" { run = $2; inrun = 1; summary = ""; named = 0; next }
	$1 == mark "-end" {
		if (summary == "") { print tag(run) ": FAIL no summary (runner exit " $3 ")"; f++ }
		else print tag(run) ": " summary
		inrun = 0; done++; next
	}
	# The runner prints each test name alone on a line (the sanitizer
	# pass adds " [asan]"), then its output
	# (and what sockeye says), then "  ok", "  FAIL" or "  SKIP" and its time.
	inrun && !named && /^[A-Za-z0-9_]+( \[asan\])?$/ { test = $0; named = 1; why = ""; next }
	inrun && named && /^    skipped: / { why = substr($0, 14) }
	inrun && /^  (ok|FAIL|SKIP) [0-9.]+ s$/ {
		if ($1 == "FAIL") print tag(run) ": FAIL " test
		if ($1 == "SKIP") print tag(run) ": SKIP " test ": " why
		named = 0
	}
	inrun && /^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$/ {
		summary = $0; p += $1; f += $3; s += $5
	}
	END {
		if (inrun) { print tag(run) ": FAIL guest stopped during the run (see " FILENAME ")"; f++ }
		else if (done < expected) { print tag("") ": FAIL guest gave no result (see the log)"; f++ }
		print "TOTAL", p + 0, f + 0, s + 0
	}'
}

run_kernel() {
	local name=$1 out=$2 pkg kdir kver log start rc
	pkg=$(resolve_package "$name")
	kdir=$(fetch_kernel $pkg)
	kver=$(ls "$kdir/boot" | sed -n 's/^vmlinuz-//p' | head -1)
	log=$CACHE/logs/$kver${VMTEST_BROKEN:+-broken}.log
	start=$(date +%s)
	rc=0
	boot "$kdir" "$kver" "$log" || rc=$?
	[ "$rc" -eq 124 ] && echo "$kver: FAIL guest timed out after ${TIMEOUT}s" >> "$out.pre"
	summarize "$kver" "$log" 1 > "$out"
	[ ! -e "$out.pre" ] || { cat "$out.pre" "$out" > "$out.tmp"; mv "$out.tmp" "$out"; rm "$out.pre"; }
	echo "$kver: guest ran $(( $(date +%s) - start ))s, log $log" >> "$out"
}

run_host() {
	./tests/sockeye-tests $ONLY | tee "$CACHE/logs/host.log" |
		{ echo "$MARK-begin default"; cat; echo "$MARK-end default"; } > "$CACHE/logs/host.marked"
	summarize host "$CACHE/logs/host.marked" 1 > "$1"
}

# The matrix must be able to fail: a guest whose init dies at once has to
# come out failed, not silently empty.
selfcheck() {
	local out=$2
	(VMTEST_BROKEN=panic FORCE="" run_kernel "$1" "$out.broken")
	if grep -q '^TOTAL 0 [1-9]' "$out.broken"; then
		printf 'selfcheck: a guest whose init dies counts as failed: ok\nTOTAL 1 0 0\n' > "$out"
	else
		printf 'selfcheck: FAIL a guest whose init dies was not counted as failed\nTOTAL 0 1 0\n' > "$out"
	fi
	rm "$out.broken"
}

ONLY=${VMTEST_ONLY:-}
[ $# -gt 0 ] || die "usage: scripts/vmtest.sh [host] KERNEL... (e.g. 6.1 6.12)"
for tool in qemu-system-x86_64 $VIRTIOFSD busybox cpio apt-get dpkg modinfo; do
	command -v "$tool" >/dev/null || [ -x "/bin/$tool" ] || die "$tool is missing: run ./scripts/deps.sh"
done
[ -x sockeye ] && [ -x tests/sockeye-tests ] || die "build first: make"
mkdir -p "$CACHE/logs" "$CACHE/results"
rm -f "$CACHE"/results/*

# The guests run side by side (one vCPU each), the self-check's short one
# with them; the host suite runs first, alone, so its timing is not
# disturbed by them.
kernels=$(for k in "$@"; do case $k in host|selfcheck) ;; *) echo "$k" ;; esac; done)
first=$(echo "$kernels" | head -1)
# Each package fetched and unpacked once, before the guests start: the
# self-check boots the same kernel as a guest beside it, and two unpacks
# of one directory at once break each other.
for k in $kernels; do
	pkg=$(resolve_package "$k")
	(fetch_kernel $pkg) >/dev/null
done
i=0
for k in "$@"; do
	i=$((i + 1))
	[ "$k" = host ] && run_host "$CACHE/results/$i"
done
i=0
guest=0
for k in "$@"; do
	i=$((i + 1))
	case $k in
	host) ;;
	selfcheck) selfcheck "${first:?selfcheck needs a KERNEL}" "$CACHE/results/$i" & ;;
	*)
		LEFT_OUT=$(left_out "$guest" "$(echo "$kernels" | wc -l)") run_kernel "$k" "$CACHE/results/$i" &
		guest=$((guest + 1)) ;;
	esac
done
wait
i=0
for k in "$@"; do
	i=$((i + 1))
	# A kernel that could not even be fetched or booted (said why above).
	[ -e "$CACHE/results/$i" ] || printf '%s: FAIL not run\nTOTAL 0 1 0\n' "$k" > "$CACHE/results/$i"
	grep -v '^TOTAL' "$CACHE/results/$i"
done
# The failures once more, last, where the tail of a long log shows them.
grep -h ': FAIL' "$CACHE"/results/* | sed 's/^/again: /' || true
cat "$CACHE"/results/* | awk '$1 == "TOTAL" { p += $2; f += $3; s += $4 }
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f > 0 }'
