#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The release binary on an older userland: Debian 11 (bullseye, glibc
# 2.31, older than the glibc 2.34 a dynamically linked build here needs),
# made once with debootstrap under build/portability/ (minbase, about
# 100 MB), where ./sockeye must print its version and run `features`
# against this kernel. Prints "N passed, N failed, 0 skipped" and exits
# non-zero on any failure. The matrix's guests run the kernel tests with
# the same binary in a root with no libc at all (scripts/vmtest.sh).
set -eu
cd "$(dirname "$0")/.."

ROOT=build/portability/bullseye
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ -x sockeye ] || { echo "portability: build first: make sockeye" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "portability: debootstrap is missing: run ./scripts/deps.sh --test" >&2; exit 2; }

if [ ! -e "$ROOT/.complete" ]; then
	echo "portability: debootstrap bullseye into $ROOT (once)" >&2
	rm -rf "$ROOT.tmp" && mkdir -p "$(dirname "$ROOT")"
	debootstrap --variant=minbase bullseye "$ROOT.tmp" "$MIRROR" > build/portability.log 2>&1 ||
		{ echo "portability: debootstrap failed (see build/portability.log)" >&2; exit 1; }
	rm -rf "$ROOT" && mv "$ROOT.tmp" "$ROOT" && touch "$ROOT/.complete"
fi

passed=0 failed=0
check() {
	if [ "$2" -eq 0 ]; then
		passed=$((passed + 1)); echo "portability: $1: ok"
	else
		failed=$((failed + 1)); echo "portability: $1: FAIL"
	fi
}

cleanup() { umount -R "$ROOT/sys" 2>/dev/null || :; umount "$ROOT/proc" 2>/dev/null || :; }
trap cleanup EXIT
cp sockeye "$ROOT/sockeye"
glibc=$(chroot "$ROOT" /lib/x86_64-linux-gnu/libc.so.6 | sed -n '1s/.*version \([0-9][0-9.]*[0-9]\).*/\1/p')
out=$(chroot "$ROOT" /sockeye --version 2>&1) && rc=0 || rc=$?
echo "$out"
case $out in "sockeye "*) ;; *) rc=1 ;; esac
check "--version on Debian $(cat "$ROOT/etc/debian_version") (glibc $glibc)" "$rc"

mount -t proc proc "$ROOT/proc"
mount -t sysfs sys "$ROOT/sys"
out=$(chroot "$ROOT" /sockeye features 2>&1) && rc=0 || rc=$?
echo "$out" | sed -n '1p;/^Command:/,+1p'
echo "$out" | grep -q '^Kernel: ' || rc=1
check "features on Debian $(cat "$ROOT/etc/debian_version")" "$rc"

echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
