#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Installs from Debian's archive what sockeye needs to build, and with
# --test also what the tests, the kernel matrix, the Debian package's test
# and the benchmarks need. Idempotent: does nothing when everything is
# there.
#
# Usage: scripts/deps.sh [--test]
#
# --test brings servers (nginx, Prometheus) that the tests and benchmarks
# start themselves on their own ports. Debian would start them as services
# at once (nginx on :80, Prometheus on :9090) and at every boot: a
# policy-rc.d that answers 101 ("action forbidden") keeps them from being
# started during the install, and the services of the packages installed
# here are disabled after it on a systemd host. A policy-rc.d already in
# place is put back as it was. prometheus brings promtool too: the agent's
# tests check its exposition with `promtool check metrics` and scrape it
# with a real Prometheus, queried with curl (they are skipped, saying so,
# without them).
set -eu

BUILD="make gcc clang libbpf-dev bpftool libelf-dev zlib1g-dev libc6-dev pkg-config \
libncurses-dev libhttp-parser-dev libmicrohttpd-dev libyaml-dev libcrypt-dev libgnutls28-dev \
libunistring-dev"
# The tests (sanitizer and fuzz builds, loads, servers, the kernel
# matrix's qemu guests), make deb-test, and the benchmarks.
TEST="llvm libclang-rt-14-dev python3 iproute2 iperf3 jq util-linux tmux iptables curl \
nginx-light wrk prometheus qemu-system-x86 busybox-static cpio kmod xz-utils \
git dpkg-dev debhelper fakeroot lintian strace systemd python3-jsonschema openssl \
gnutls-bin python3-yaml debootstrap linux-perf"
# The systemd services those packages bring, to disable once installed.
SERVICES="nginx-light:nginx.service prometheus:prometheus.service"

case ${1:-} in
"") PACKAGES=$BUILD ;;
--test) PACKAGES="$BUILD $TEST" ;;
*) echo "usage: scripts/deps.sh [--test]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
POLICY=/usr/sbin/policy-rc.d
SAVED=$POLICY.sockeye-deps

restore_policy() {
	if [ -e "$SAVED" ]; then
		$SUDO mv -f "$SAVED" "$POLICY"
	else
		$SUDO rm -f "$POLICY"
	fi
}

echo "deps: installing$missing"
$SUDO apt-get update -qq
[ ! -e "$POLICY" ] || $SUDO mv "$POLICY" "$SAVED"
trap restore_policy EXIT
trap 'exit 1' INT TERM HUP
printf '#!/bin/sh\n# scripts/deps.sh: no service starts while it installs.\nexit 101\n' |
	$SUDO tee "$POLICY" >/dev/null
$SUDO chmod 755 "$POLICY"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing

# Not at the next boot either, for the packages installed just now.
if [ -d /run/systemd/system ]; then
	for s in $SERVICES; do
		case " $missing " in
		*" ${s%%:*} "*) $SUDO systemctl disable --now --quiet "${s#*:}" || true ;;
		esac
	done
fi
