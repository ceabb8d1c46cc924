# SPDX-License-Identifier: GPL-2.0-only
# vmlinux.h -> bpf/*.bpf.c -> build/*.bpf.o -> build/*.skel.h -> sockeye
# `make` builds, `make test` builds and runs every test on this kernel and
# in the kernel matrix (KERNEL="6.1 6.12" by default, see scripts/vmtest.sh),
# `make hosttest` on this kernel only, `make vmtest` in the matrix only,
# `make fuzz` fuzzes the HTTP parser glue, `make
# vmlinux` regenerates bpf/vmlinux.h from the running kernel, V=1 shows
# commands.

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Ibuild -Ibpf -Isrc
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Wall -Wno-unused-value
# libbpf, libelf, zlib and ncurses go in statically so the binary runs on hosts
# without them; libc stays shared. The test runner is fully static so it
# can run in a bare VM next to nothing but a kernel.
CURSES_LIBS := $(shell pkg-config --libs --static ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
LIBS := -Wl,-Bstatic -lbpf -lelf -lz -lhttp_parser $(CURSES_LIBS) -Wl,-Bdynamic
TEST_LIBS := -static -lbpf -lelf -lz -lhttp_parser $(CURSES_LIBS)
# libmicrohttpd goes in statically but the GnuTLS it calls stays shared:
# GnuTLS's own p11-kit and libunistring have no static libraries, and
# libgnutls30 is on every Debian host (apt needs it), libmicrohttpd12 is
# not. Only the agent's command and HTTP endpoint use them, so the static
# test runner leaves those two out.
HTTP_LIBS := -Wl,-Bstatic -lmicrohttpd -Wl,-Bdynamic -lgnutls
SERVE_SRCS := src/agent.c src/endpoint.c

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,build/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(filter-out src/main.c $(SERVE_SRCS),$(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,build/%.o,$(LIB_SRCS))
SERVE_OBJS := $(patsubst src/%.c,build/%.o,$(SERVE_SRCS))
TEST_SRCS := $(wildcard tests/*.c)
TEST_OBJS := $(patsubst tests/%.c,build/tests/%.o,$(TEST_SRCS))

# Debian cloud kernel series (or linux-image packages) `make vmtest` boots.
KERNEL ?= 6.1 6.12

.PHONY: all test hosttest vmtest vmlinux clean fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: sockeye tests/sockeye-tests

build build/tests:
	$(Q)mkdir -p $@

build/%.bpf.o: bpf/%.bpf.c bpf/vmlinux.h $(wildcard bpf/*.h) | build
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

build/%.skel.h: build/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

build/%.o: src/%.c $(wildcard src/*.h) $(wildcard bpf/*.h) $(SKELS) | build
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

build/tests/%.o: tests/%.c $(wildcard tests/*.h) $(wildcard src/*.h) $(SKELS) | build/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

sockeye: build/main.o $(LIB_OBJS) $(SERVE_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) $(HTTP_LIBS) -o $@

tests/sockeye-tests: $(TEST_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(TEST_LIBS) -o $@

# The fuzz target of everything that parses captured bytes (libFuzzer from
# clang, with ASan and UBSan). `make fuzz` runs it for FUZZ_SECONDS; a crash
# input lands in the corpus, which every run, and the test suite's short
# one, replays first.
FUZZ_SECONDS ?= 120
FUZZ_CORPUS := tests/fuzz/http-corpus

build/http-fuzz: tests/fuzz/http_fuzz.c src/http_parse.c src/http_parse.h bpf/http.h | build
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Ibpf -Isrc $(filter %.c,$^) -l:libhttp_parser.a -o $@

fuzz: build/http-fuzz
	$(Q)mkdir -p build/fuzz-corpus
	$(Q)build/http-fuzz -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(FUZZ_CORPUS)/ \
		build/fuzz-corpus $(FUZZ_CORPUS)

test: sockeye tests/sockeye-tests build/http-fuzz
	$(Q)./scripts/vmtest.sh host $(KERNEL) selfcheck

hosttest: sockeye tests/sockeye-tests build/http-fuzz
	$(Q)./tests/sockeye-tests

vmtest: sockeye tests/sockeye-tests build/http-fuzz
	$(Q)./scripts/vmtest.sh $(KERNEL)

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

clean:
	rm -rf build sockeye tests/sockeye-tests
