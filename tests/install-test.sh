#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# `make install` into a scratch DESTDIR installs exactly the expected files
# (stand-ins for the man pages and the completion, given as MAN_PAGES and
# COMPLETION, check that they are installed when they exist), the unit's
# ExecStart follows BINDIR, the installed binary runs --version and
# features, and `make uninstall` leaves no file behind; then the same with
# the real man pages and completion (`make man completion`). Also that the
# release is the same in src/sockeye.h, debian/changelog and CHANGELOG.md.
# Run from the top of the tree after `make` (tests/test_install.c does).
set -eu
tmp=$(mktemp -d /tmp/sockeye-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install-test: $*"; exit 1; }
# A make of its own, not a job of the `make test` that may be running this;
# -o sockeye: install what is built, never rebuild it in the middle of a
# test run.
unset MAKEFLAGS MFLAGS MAKELEVEL
mk() { make --no-print-directory -o sockeye "$@" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make $*"; }; }

files() { (cd "$1" && find . ! -type d | sed 's|^\./||' | LC_ALL=C sort); }

mkdir -p "$tmp/man" "$tmp/completion"
echo '.TH SOCKEYE 8' > "$tmp/man/sockeye.8"
echo '.TH SOCKEYE-TOP 8' > "$tmp/man/sockeye-top.8"
echo 'complete -F _sockeye sockeye' > "$tmp/completion/sockeye"
extra="MAN_PAGES=$tmp/man/sockeye.8 $tmp/man/sockeye-top.8"

# The defaults: PREFIX=/usr/local.
root=$tmp/local
mk install DESTDIR="$root" "$extra" COMPLETION="$tmp/completion/sockeye"
expected="usr/local/bin/sockeye
usr/local/lib/systemd/system/sockeye-agent.service
usr/local/share/bash-completion/completions/sockeye
usr/local/share/doc/sockeye/examples/prometheus.yml
usr/local/share/man/man8/sockeye-top.8
usr/local/share/man/man8/sockeye.8
usr/local/share/sockeye/grafana/sockeye.json
usr/local/share/sockeye/prometheus/sockeye-rules.yml"
actual=$(files "$root")
[ "$actual" = "$expected" ] || fail "installed:
$actual
expected:
$expected"
[ -x "$root/usr/local/bin/sockeye" ] || fail "the binary is not executable"
[ "$(stat -c %a "$root/usr/local/share/man/man8/sockeye.8")" = 644 ] || fail "man page mode"
grep -qx 'ExecStart=/usr/local/bin/sockeye agent $ARGS' \
	"$root/usr/local/lib/systemd/system/sockeye-agent.service" || fail "ExecStart not in BINDIR"
out=$("$root/usr/local/bin/sockeye" --version) || fail "installed sockeye --version failed"
version=$(sed -n 's/^#define SOCKEYE_VERSION "\(.*\)"$/\1/p' src/sockeye.h)
case $out in "sockeye $version ("*", libbpf v"*")") ;; *) fail "--version said: $out" ;; esac
"$root/usr/local/bin/sockeye" features > "$tmp/features" 2>&1 || { cat "$tmp/features"; fail "installed sockeye features failed"; }
grep -q '^Command:' "$tmp/features" || fail "features printed no commands"
mk uninstall DESTDIR="$root"
[ -z "$(files "$root")" ] || fail "left after uninstall: $(files "$root")"
[ ! -e "$root/usr/local/share/doc/sockeye" ] || fail "uninstall left share/doc/sockeye"
[ ! -e "$root/usr/local/share/sockeye" ] || fail "uninstall left share/sockeye"

# A distribution's layout: PREFIX=/usr, the binary in /usr/sbin, the unit
# in /lib; no man pages or completion built (MAN_PAGES empty).
root=$tmp/usr
mk install DESTDIR="$root" PREFIX=/usr BINDIR=/usr/sbin SYSTEMDUNITDIR=/lib/systemd/system \
	MAN_PAGES= COMPLETION=
expected="lib/systemd/system/sockeye-agent.service
usr/sbin/sockeye
usr/share/doc/sockeye/examples/prometheus.yml
usr/share/sockeye/grafana/sockeye.json
usr/share/sockeye/prometheus/sockeye-rules.yml"
actual=$(files "$root")
[ "$actual" = "$expected" ] || fail "installed (PREFIX=/usr):
$actual
expected:
$expected"
grep -q '^ExecStart=/usr/sbin/sockeye agent ' "$root/lib/systemd/system/sockeye-agent.service" ||
	fail "ExecStart does not follow BINDIR=/usr/sbin"
mk uninstall DESTDIR="$root" PREFIX=/usr BINDIR=/usr/sbin SYSTEMDUNITDIR=/lib/systemd/system
[ -z "$(files "$root")" ] || fail "left after uninstall (PREFIX=/usr): $(files "$root")"

# The real pages and completion, as `make man completion` writes them
# from the binary: sockeye.8 and one page per command --help lists, each
# one that man can read.
mk man completion
root=$tmp/real
mk install DESTDIR="$root"
commands=$(./sockeye --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
expected=$( { echo sockeye.8; for c in $commands; do echo "sockeye-$c.8"; done; } | LC_ALL=C sort)
actual=$(ls "$root/usr/local/share/man/man8" | LC_ALL=C sort)
[ "$actual" = "$expected" ] || fail "man pages installed:
$actual
expected:
$expected"
# groff (groff-base, which man-db needs) where it is installed.
command -v groff >/dev/null && for page in "$root"/usr/local/share/man/man8/*.8; do
	warnings=$(groff -man -ww -z "$page" 2>&1) || fail "groff failed on $page"
	[ -z "$warnings" ] || fail "groff warns on $page: $warnings"
done
grep -q '^complete -F _sockeye sockeye$' "$root/usr/local/share/bash-completion/completions/sockeye" ||
	fail "the completion is not the generated one"
mk uninstall DESTDIR="$root"
[ -z "$(files "$root")" ] || fail "left after uninstall (real pages): $(files "$root")"

# One release number everywhere.
deb=$(sed -n '1s/^sockeye (\([^)]*\)).*/\1/p' debian/changelog)
[ "$deb" = "$version" ] || fail "debian/changelog says $deb, src/sockeye.h $version"
grep -q "^## $version " CHANGELOG.md || fail "CHANGELOG.md has no \"## $version\" section"
echo "install-test: ok"
