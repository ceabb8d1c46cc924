#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Installs what sockeye needs to build, test and benchmark, from Debian's
# archive. Idempotent: does nothing when everything is there.
set -eu

PACKAGES="make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libc6-dev \
pkg-config libncurses-dev iproute2 iperf3 jq util-linux tmux iptables \
libhttp-parser-dev libclang-rt-14-dev curl nginx-light wrk libmicrohttpd-dev prometheus \
python3-jsonschema \
qemu-system-x86 busybox-static cpio kmod xz-utils"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "deps: installing$missing"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
