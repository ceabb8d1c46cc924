#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package from a clean clone of HEAD (`make deb-test`; CI runs
# it after `make test`): dpkg-buildpackage -us -uc -b builds
# sockeye_VERSION_ARCH.deb with its Depends and Built-Using, lintian has
# nothing to say beyond debian/sockeye.lintian-overrides, dpkg -x puts
# exactly the expected files where Debian expects them, and dpkg installs,
# removes and purges it in a scratch root, leaving nothing.
#
# The scratch root is a chroot with only busybox as /bin/sh and stand-ins
# for deb-systemd-helper, deb-systemd-invoke and systemctl that log their
# arguments: dpkg --root runs the maintainer scripts chrooted there, so they
# really run but cannot reach the host's systemd, and the log shows the
# unit was never enabled nor started. (--force-script-chrootless would run
# them on the host instead, where postrm may reload the host's systemd.)
# Needs root (dpkg --root chroots), dpkg-dev, debhelper, lintian and
# busybox-static: ./scripts/deps.sh --test installs them.
set -eu
cd "$(dirname "$0")/.."
fail() { echo "deb-test: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "needs root (dpkg --root chroots to run the maintainer scripts)"
for t in dpkg-buildpackage dh lintian busybox git; do
	command -v $t >/dev/null || fail "$t missing: ./scripts/deps.sh --test"
done
tmp=$(mktemp -d /tmp/sockeye-deb-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset MAKEFLAGS MFLAGS MAKELEVEL

# What a clean clone has: HEAD, without the working tree's changes.
git clone -q . "$tmp/sockeye"
rev=g$(git -C "$tmp/sockeye" rev-parse --short=7 HEAD)
version=$(sed -n '1s/^sockeye (\([^)]*\)).*/\1/p' "$tmp/sockeye/debian/changelog")
arch=$(dpkg --print-architecture)
deb=$tmp/sockeye_${version}_$arch.deb
start=$(date +%s)
(cd "$tmp/sockeye" && dpkg-buildpackage -us -uc -b) > "$tmp/build.log" 2>&1 ||
	{ tail -40 "$tmp/build.log"; fail "dpkg-buildpackage failed"; }
echo "deb-test: built $(basename "$deb") in $(($(date +%s) - start)) s"
[ -f "$deb" ] || fail "no $(basename "$deb"): $(ls "$tmp")"

field() { dpkg-deb -f "$deb" "$1"; }
# The binary is static: no shared library to depend on, and Built-Using
# names every source package whose code it carries.
case $(field Depends) in *libc6*) fail "Depends on libc6, yet the binary is static: $(field Depends)" ;; esac
for src in libbpf elfutils zlib libmicrohttpd ncurses http-parser glibc gnutls28 nettle; do
	case ", $(field Built-Using)" in *", $src (= "*) ;; *) fail "Built-Using lacks $src: $(field Built-Using)" ;; esac
done

# lintian: nothing beyond the overrides. no-manual-page is the one
# exception, while the Makefile has no man target to build the pages.
has_man=$(make -C "$tmp/sockeye" -s -n man >/dev/null 2>&1 && echo yes || echo no)
has_completion=$(make -C "$tmp/sockeye" -s -n completion >/dev/null 2>&1 && echo yes || echo no)
lintian --pedantic -I "$tmp"/sockeye_${version}_$arch.changes > "$tmp/lintian.log" 2>&1 || true
grep -v '^running with root privileges' "$tmp/lintian.log" |
	{ if [ $has_man = no ]; then grep -v '^W: sockeye: no-manual-page \[usr/bin/sockeye\]$'; else cat; fi; } > "$tmp/lintian.tags" || true
[ ! -s "$tmp/lintian.tags" ] || { cat "$tmp/lintian.tags"; fail "lintian tags (fix or explain in debian/sockeye.lintian-overrides)"; }

# Where Debian expects the files.
dpkg -x "$deb" "$tmp/x"
files() { (cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort); }
expected="lib/systemd/system/sockeye-agent.service
usr/bin/sockeye
usr/share/doc/sockeye/changelog.gz
usr/share/doc/sockeye/copyright
usr/share/doc/sockeye/examples/prometheus.yml
usr/share/lintian/overrides/sockeye
usr/share/sockeye/grafana/sockeye.json
usr/share/sockeye/prometheus/sockeye-rules.yml"
[ $has_completion = no ] || expected="$expected
usr/share/bash-completion/completions/sockeye"
actual=$(files "$tmp/x")
if [ $has_man = yes ]; then
	# One page per command, each gzipped by dh_compress.
	echo "$actual" | grep -qx 'usr/share/man/man8/sockeye.8.gz' || fail "no sockeye.8.gz"
	actual=$(echo "$actual" | grep -vx 'usr/share/man/man8/sockeye[-a-z]*\.8\.gz')
fi
expected=$(echo "$expected" | LC_ALL=C sort)
[ "$actual" = "$expected" ] || fail "the package holds:
$actual
expected:
$expected"
grep -qx 'ExecStart=/usr/bin/sockeye agent $ARGS' \
	"$tmp/x/lib/systemd/system/sockeye-agent.service" || fail "the unit's ExecStart is not /usr/bin/sockeye"
out=$("$tmp/x/usr/bin/sockeye" --version)
case $out in "sockeye $version ($rev, libbpf v"*")") ;; *) fail "the packaged sockeye says: $out" ;; esac

# Install, remove, purge in the scratch root.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/bin" "$root/usr/bin" "$root/dev"
touch "$root/var/lib/dpkg/status"
cp "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
mknod -m 666 "$root/dev/null" c 1 3
for stub in deb-systemd-helper deb-systemd-invoke systemctl; do
	printf '#!/bin/sh\necho "%s $*" >> /stub-calls\nexit 1\n' $stub > "$root/usr/bin/$stub"
	chmod 755 "$root/usr/bin/$stub"
done
base=$(files "$root" | grep -v "^var/lib/dpkg/")
dpkgr() { dpkg --root="$root" --log="$tmp/dpkg.log" "$@" >> "$tmp/dpkg.out" 2>&1 || { cat "$tmp/dpkg.out"; fail "dpkg $*"; }; }
dpkgr --force-depends -i "$deb"
[ "$(dpkg-query --root="$root" -W -f='${Status}' sockeye)" = "install ok installed" ] || fail "not installed"
for f in $expected; do [ -e "$root/$f" ] || fail "dpkg -i did not install /$f"; done
! grep -E ' (enable|start|restart)' "$root/stub-calls" 2>/dev/null || fail "the unit was enabled or started"
dpkgr -r sockeye
dpkgr -P sockeye
rm -f "$root/stub-calls"
left=$(files "$root" | grep -v '^var/lib/dpkg/' || true)
[ "$left" = "$base" ] || fail "left after dpkg -r and -P: $(echo "$left" | grep -vxF "$base")"
[ -z "$(dpkg-query --root="$root" -W sockeye 2>/dev/null)" ] || fail "still known to dpkg"
echo "deb-test: ok ($(echo "$expected" | wc -l) files; installed, removed and purged in a scratch root)"
