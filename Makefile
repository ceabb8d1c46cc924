# SPDX-License-Identifier: GPL-2.0-only
# vmlinux.h -> bpf/*.bpf.c -> build/*.bpf.o -> build/*.skel.h -> sockeye
# `make` builds, `make test` builds and runs every test on this kernel (a
# plain and a sanitizer pass) and in the kernel matrix (KERNEL="5.10 6.1 6.12" by
# default, see scripts/vmtest.sh), `make hosttest` on this kernel only,
# `make vmtest` in the matrix only, `make portability` the release binary
# in a Debian 11 root, `make fuzz` runs the fuzz targets longer, `make
# vmlinux` regenerates bpf/vmlinux.h from the running kernel, V=1 shows
# commands.
# `make bench` prints the benchmark report (bench/run.sh): on/off ratios of
# every long-running command under each load, the CPU each costs per operation
# of a fixed load, start-up times, per-program costs, idle CPU and memory, then
# the agent's scrape latency beside 10,000 open connections (bench/scrape.sh);
# BENCH_RUNS runs per state (default 6, about 45 minutes; BENCH_RUNS=2 is the
# quick one, about 18) of BENCH_SECONDS each.
# `make soak` runs the agent and `sockeye events` under load for SOAK_SECONDS
# (default 600) and fails on a crash or on memory or map growth
# (bench/soak.sh). Both hold /tmp/sockeye-bench.lock while they measure.
# `make install` installs the binary, the man pages and the bash completion
# (whichever of MAN_PAGES and COMPLETION exist), the systemd unit (its
# ExecStart in BINDIR) and the examples under PREFIX (default /usr/local),
# staged in DESTDIR; `make uninstall` removes them. `make deb` builds the
# Debian package (debian/) in ../, `make deb-test` builds it from a clean
# clone of HEAD and installs and removes it in a scratch root
# (tests/deb-test.sh). CPPFLAGS, CFLAGS and LDFLAGS from the environment or
# the command line go into sockeye and the test runner (not into the BPF
# objects nor the sanitizer build). VERSION_REV overrides the git revision
# in `sockeye --version` (default: from git, "unknown" outside a clone).

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS ?= -O2 -g
WARN_INC := -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Ibuild -Ibpf -Isrc
# The user's CPPFLAGS and CFLAGS (dpkg-buildflags: fortify, stack
# protector...) come after ours, so they win where they overlap; -MMD -MP
# writes each object's header dependencies next to it (build/*.d).
DEPFLAGS = -MMD -MP
SOCKEYE_CFLAGS = $(WARN_INC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Wall -Wno-unused-value
# sockeye is linked fully static, glibc included, so that one file runs on
# any x86-64 Linux userland: Debian 11 (glibc 2.31), older RHEL, Alpine
# (musl), a root with no libc at all. Not musl: libbpf, libelf, GnuTLS and
# the rest come from Debian's packages, built against glibc. Static glibc
# cannot use NSS (its modules are shared libraries of one glibc version):
# sockeye reads /etc/passwd itself for user names and resolves no host
# names. GnuTLS (the agent's HTTPS, through libmicrohttpd) goes in
# statically with nettle, GMP, libtasn1, libidn2 and libunistring; p11-kit,
# which it calls for PKCS#11 tokens, has no static library in Debian, and
# src/p11kit_absent.c stands in for it (no tokens: keys and certificates
# come from files). The test runner is static too, to run in a bare VM;
# the sanitizer build is dynamic (ASan needs the shared glibc).
CURSES_LIBS := $(shell pkg-config --libs --static ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
LIBS := -Wl,-Bstatic -lbpf -lelf -lz -lhttp_parser $(CURSES_LIBS) -Wl,-Bdynamic
STATIC_LIBS := -static -lbpf -lelf -lz -lhttp_parser $(CURSES_LIBS)
# The agent's server: libmicrohttpd, libyaml (--web-config) and libxcrypt's
# libcrypt (bcrypt, for basic auth), from the .a files of libmicrohttpd-dev,
# libyaml-dev and libcrypt-dev, and the GnuTLS they call (libmicrohttpd for
# TLS, the agent to check certificates and hash): statically in sockeye,
# with GnuTLS shared in the sanitizer build. Only the agent's command, HTTP
# endpoint and web configuration use them, so the test runner leaves those
# out.
HTTP_LIBS := -Wl,-Bstatic -lmicrohttpd -lyaml -lcrypt -Wl,-Bdynamic -lgnutls
STATIC_HTTP_LIBS := -lmicrohttpd -lyaml -lcrypt -lgnutls -lhogweed -lnettle -lgmp -ltasn1 -lidn2 \
	-lunistring
P11KIT_CFLAGS := $(shell pkg-config --cflags p11-kit-1)
SERVE_SRCS := src/agent/agent.c src/agent/endpoint.c src/agent/web_config.c

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,build/%.skel.h,$(BPF_SRCS))
# The user side: src/*.c, and the agent's own files in src/agent/ (their
# objects in build/agent/); p11-kit's stand-in goes into sockeye alone.
LIB_SRCS := $(filter-out src/main.c src/p11kit_absent.c $(SERVE_SRCS),$(wildcard src/*.c src/agent/*.c))
LIB_OBJS := $(patsubst src/%.c,build/%.o,$(LIB_SRCS))
SERVE_OBJS := $(patsubst src/%.c,build/%.o,$(SERVE_SRCS))
TEST_SRCS := $(wildcard tests/*.c)
TEST_OBJS := $(patsubst tests/%.c,build/tests/%.o,$(TEST_SRCS))

# The sanitizer build, make test's second pass: the same user space built
# by clang with AddressSanitizer (leak checks on) and UndefinedBehavior-
# Sanitizer, both fatal at the first report. The objects also carry
# libFuzzer's coverage (fuzzer-no-link), so the fuzz targets link these
# same objects; without libFuzzer linked in, ASan's runtime answers those
# hooks with no-ops. ASan needs the shared glibc, so this runner is linked
# dynamically; the static libraries go in as in the plain build.
SAN_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
ASAN_CFLAGS := $(SAN_FLAGS) -fsanitize=fuzzer-no-link $(WARN_INC)
ASAN_LIB_OBJS := $(patsubst build/%,build/asan/%,$(LIB_OBJS))
ASAN_SERVE_OBJS := $(patsubst build/%,build/asan/%,$(SERVE_OBJS))
ASAN_TEST_OBJS := $(patsubst build/%,build/asan/%,$(TEST_OBJS))
ASAN_TEST_LIBS := -Wl,-Bstatic -lbpf -lelf -lz -lhttp_parser $(CURSES_LIBS) -Wl,-Bdynamic

# Debian cloud kernel series (or linux-image packages) `make vmtest` boots:
# Debian 11's 5.10, the oldest, and Debian 12's 6.1 and 6.12.
KERNEL ?= 5.10 6.1 6.12

.PHONY: all test hosttest vmtest portability vmlinux clean fuzz bench soak install uninstall deb deb-test man completion FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: sockeye tests/sockeye-tests

build build/agent build/tests build/asan build/asan/agent build/asan/tests:
	$(Q)mkdir -p $@

# Header dependencies: each object's .d, written by the compiler as it
# builds it, lists the headers it included, so a header change rebuilds only
# its users. The generated headers (the skeletons, version.h) are order-only
# prerequisites of every object: they exist before the first compile, which
# has no .d yet; after that each object's .d says which of them it uses.
GEN_HDRS := $(SKELS) build/version.h

build/%.bpf.o: bpf/%.bpf.c | build
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

build/%.skel.h: build/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The version's git revision ("g" and the abbreviated commit, as git
# describe writes it), rewritten only when it changes, so that only the
# objects including it (main.c, agent.c) are rebuilt after a commit. From a
# tarball without .git, or with VERSION_REV=... given, that instead.
ifeq ($(origin VERSION_REV),undefined)
VERSION_REV := $(shell [ -e .git ] && git rev-parse --short=7 HEAD 2>/dev/null | sed 's/^/g/')
endif
ifeq ($(strip $(VERSION_REV)),)
override VERSION_REV := unknown
endif

build/version.h: FORCE | build
	$(Q)echo '#define SOCKEYE_REVISION "$(VERSION_REV)"' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; echo "  GEN      $@ ($(VERSION_REV))"; fi

FORCE:

build/agent/%.o: src/agent/%.c | build/agent $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(SOCKEYE_CFLAGS) -c $< -o $@

build/%.o: src/%.c | build $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(SOCKEYE_CFLAGS) -c $< -o $@

build/tests/%.o: tests/%.c | build/tests $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(SOCKEYE_CFLAGS) -Itests -c $< -o $@

build/asan/agent/%.o: src/agent/%.c | build/asan/agent $(GEN_HDRS)
	$(call msg,ASAN-CC,$@)
	$(Q)$(CLANG) $(ASAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

build/asan/%.o: src/%.c | build/asan $(GEN_HDRS)
	$(call msg,ASAN-CC,$@)
	$(Q)$(CLANG) $(ASAN_CFLAGS) $(DEPFLAGS) -c $< -o $@

build/asan/tests/%.o: tests/%.c | build/asan/tests $(GEN_HDRS)
	$(call msg,ASAN-CC,$@)
	$(Q)$(CLANG) $(ASAN_CFLAGS) $(DEPFLAGS) -Itests -c $< -o $@

-include $(wildcard build/*.d build/agent/*.d build/tests/*.d build/asan/*.d build/asan/agent/*.d \
	build/asan/tests/*.d)

build/asan/sockeye: build/asan/main.o $(ASAN_LIB_OBJS) $(ASAN_SERVE_OBJS)
	$(call msg,ASAN-LD,$@)
	$(Q)$(CLANG) $(SAN_FLAGS) $^ $(LIBS) $(HTTP_LIBS) -o $@

build/asan/sockeye-tests: $(ASAN_TEST_OBJS) $(ASAN_LIB_OBJS)
	$(call msg,ASAN-LD,$@)
	$(Q)$(CLANG) $(SAN_FLAGS) $^ $(ASAN_TEST_LIBS) -o $@

build/p11kit_absent.o: src/p11kit_absent.c | build
	$(call msg,CC,$@)
	$(Q)$(CC) $(SOCKEYE_CFLAGS) $(P11KIT_CFLAGS) -c $< -o $@

sockeye: build/main.o $(LIB_OBJS) $(SERVE_OBJS) build/p11kit_absent.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(STATIC_LIBS) $(STATIC_HTTP_LIBS) -o $@

tests/sockeye-tests: $(TEST_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(STATIC_LIBS) -o $@

# The fuzz targets, one per parser of bytes or text from outside (libFuzzer
# from clang; ASan and UBSan): tests/fuzz/NAME.c, linked with the shared
# driver and the sanitizer build's objects as an archive (see
# tests/fuzz/fuzz.h); the options target also with main.c built as
# sockeye_main(). `make fuzz` runs each (FUZZ=NAME... for some) for
# FUZZ_SECONDS, new inputs kept in build/fuzz-corpus/NAME; a crash input
# lands in tests/fuzz/corpus/NAME, which every run, and the test suite's
# short one, replays first.
FUZZ_SECONDS ?= 120
FUZZ_TARGETS := $(filter-out driver,$(basename $(notdir $(wildcard tests/fuzz/*.c))))
FUZZ ?= $(FUZZ_TARGETS)
FUZZ_BINS := $(patsubst %,build/fuzz/%,$(FUZZ_TARGETS))
# The driver stands in for these, to stop a command once it has parsed
# its options or when it exits.
FUZZ_WRAP := -Wl,--wrap=exit,--wrap=check_environment,--wrap=run_start

build/asan/libsockeye.a: $(ASAN_LIB_OBJS) $(ASAN_SERVE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

build/fuzz:
	$(Q)mkdir -p $@

build/fuzz/%: tests/fuzz/%.c tests/fuzz/driver.c tests/fuzz/fuzz.h build/asan/libsockeye.a | build/fuzz
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(SAN_FLAGS) -fsanitize=fuzzer $(WARN_INC) $(filter %.c %.o,$^) $(filter %.a,$^) \
		$(FUZZ_WRAP) $(LIBS) $(HTTP_LIBS) -o $@

build/asan/main_fuzz.o: src/main.c | build/asan $(GEN_HDRS)
	$(call msg,ASAN-CC,$@)
	$(Q)$(CLANG) $(ASAN_CFLAGS) $(DEPFLAGS) -Dmain=sockeye_main -c $< -o $@

build/fuzz/options: build/asan/main_fuzz.o

fuzz: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ); do \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		mkdir -p build/fuzz-corpus/$$t && \
		build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -close_fd_mask=3 \
			-artifact_prefix=tests/fuzz/corpus/$$t/ \
			build/fuzz-corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# The guests of the matrix run the plain pass only: its environment stays
# outside them.
test: sockeye tests/sockeye-tests $(FUZZ_BINS) build/asan/sockeye build/asan/sockeye-tests
	$(Q)SOCKEYE_TEST_SANITIZED=build/asan/sockeye-tests ./scripts/vmtest.sh host $(KERNEL) \
		selfcheck

hosttest: sockeye tests/sockeye-tests $(FUZZ_BINS) build/asan/sockeye build/asan/sockeye-tests
	$(Q)SOCKEYE_TEST_SANITIZED=build/asan/sockeye-tests ./tests/sockeye-tests

vmtest: sockeye tests/sockeye-tests
	$(Q)./scripts/vmtest.sh $(KERNEL)

# The release binary on Debian 11's userland (tests/portability.sh): a
# bullseye root made once with debootstrap under build/portability/.
portability: sockeye
	$(Q)tests/portability.sh

BENCH_RUNS ?= 6
BENCH_SECONDS ?= 2
SOAK_SECONDS ?= 600

bench: sockeye bench/printrate
	$(Q)bench/run.sh -n $(BENCH_RUNS) -t $(BENCH_SECONDS) -u -s 5 -p -i 6
	$(Q)bench/scrape.sh
	$(Q)bench/printrate 2000000 >/dev/null
	$(Q)bench/printrate -j 2000000 >/dev/null
	$(Q)bench/printload.sh

# How many records a second `events`' printer formats and writes from one
# CPU, as text and as JSON (bench/printrate.c, linked with sockeye's own
# objects), then the same with real records under the RST loop
# (bench/printload.sh); the last part of `make bench`.
bench/printrate: bench/printrate.c $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(SOCKEYE_CFLAGS) $^ $(STATIC_LIBS) -o $@

soak: sockeye
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) bench/soak.sh

# The man pages, sockeye(8) and sockeye-COMMAND(8) for every command
# `sockeye --help` lists, and the bash completion: the binary prints them
# from the tables its --help comes from (`sockeye docs`), so they cannot
# drift from it.
SOCKEYE_COMMANDS = $(shell ./sockeye --help | sed -n '/^Commands:/,/^$$/s/^  \([a-z]*\) .*/\1/p')

man: sockeye
	$(call msg,MAN,build/man)
	$(Q)rm -rf build/man && mkdir -p build/man
	$(Q)./sockeye docs --man sockeye > build/man/sockeye.8
	$(Q)for c in $(SOCKEYE_COMMANDS); do ./sockeye docs --man $$c > build/man/sockeye-$$c.8 || exit 1; done

completion: sockeye
	$(call msg,GEN,build/completion/sockeye)
	$(Q)mkdir -p build/completion
	$(Q)./sockeye docs --completion bash > build/completion/sockeye

# Installation. MAN_PAGES and COMPLETION are whatever `make man` and the
# completion generator have produced (none yet: then none is installed),
# looked for when install runs, so `make man install` finds the pages.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/sockeye
EXAMPLESDIR ?= $(DOCDIR)/examples
# The Grafana dashboard and the Prometheus rules, read in place (not under
# doc/, where a package's files may be compressed).
DATADIR ?= $(PREFIX)/share/sockeye
MAN_PAGES ?= $(wildcard build/man/*.8)
COMPLETION ?= $(wildcard build/completion/sockeye)
INSTALL ?= install
EXAMPLES := contrib/prometheus.yml
DASHBOARDS := contrib/grafana/sockeye.json
RULES := contrib/prometheus/sockeye-rules.yml

install: sockeye
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(EXAMPLESDIR)
	$(Q)$(INSTALL) -m 755 sockeye $(DESTDIR)$(BINDIR)/sockeye
	$(Q)sed 's|^ExecStart=/usr/local/bin/sockeye |ExecStart=$(BINDIR)/sockeye |' \
		contrib/sockeye-agent.service > $(DESTDIR)$(SYSTEMDUNITDIR)/sockeye-agent.service.tmp
	$(Q)grep -q '^ExecStart=$(BINDIR)/sockeye ' $(DESTDIR)$(SYSTEMDUNITDIR)/sockeye-agent.service.tmp || \
		{ echo "install: no ExecStart=/usr/local/bin/sockeye in contrib/sockeye-agent.service" >&2; exit 1; }
	$(Q)chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/sockeye-agent.service.tmp
	$(Q)mv $(DESTDIR)$(SYSTEMDUNITDIR)/sockeye-agent.service.tmp \
		$(DESTDIR)$(SYSTEMDUNITDIR)/sockeye-agent.service
	$(Q)$(INSTALL) -m 644 $(EXAMPLES) $(DESTDIR)$(EXAMPLESDIR)/
	$(Q)$(INSTALL) -d $(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DATADIR)/prometheus
	$(Q)$(INSTALL) -m 644 $(DASHBOARDS) $(DESTDIR)$(DATADIR)/grafana/
	$(Q)$(INSTALL) -m 644 $(RULES) $(DESTDIR)$(DATADIR)/prometheus/
	$(if $(strip $(MAN_PAGES)),$(Q)$(INSTALL) -d $(DESTDIR)$(MANDIR)/man8 && \
		$(INSTALL) -m 644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/)
	$(if $(strip $(COMPLETION)),$(Q)$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR) && \
		$(INSTALL) -m 644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/sockeye)

# Removes what install installs, man pages by name (sockeye.8 and
# sockeye-*.8: build/man may be gone by now), and the directories that
# are sockeye's own; the shared ones (bin, man8...) stay.
uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(BINDIR)/sockeye $(DESTDIR)$(SYSTEMDUNITDIR)/sockeye-agent.service \
		$(addprefix $(DESTDIR)$(EXAMPLESDIR)/,$(notdir $(EXAMPLES))) \
		$(addprefix $(DESTDIR)$(DATADIR)/grafana/,$(notdir $(DASHBOARDS))) \
		$(addprefix $(DESTDIR)$(DATADIR)/prometheus/,$(notdir $(RULES))) \
		$(DESTDIR)$(MANDIR)/man8/sockeye.8 $(DESTDIR)$(MANDIR)/man8/sockeye-*.8 \
		$(DESTDIR)$(BASHCOMPDIR)/sockeye
	$(Q)for d in $(DESTDIR)$(EXAMPLESDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)/grafana \
		$(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DATADIR); do \
		[ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done

# The Debian package (debian/), built by dpkg-buildpackage into ../ after
# a make clean (dh's); the version is debian/changelog's. deb-test builds
# it from a clean clone of HEAD and installs and removes it in a scratch
# root (about 35 s).
deb:
	dpkg-buildpackage -us -uc -b

deb-test:
	$(Q)tests/deb-test.sh

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

clean:
	rm -rf build sockeye tests/sockeye-tests bench/loadgen bench/startup bench/printrate
