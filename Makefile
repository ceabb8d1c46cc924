# SPDX-License-Identifier: GPL-2.0-only
# vmlinux.h -> bpf/*.bpf.c -> build/*.bpf.o -> build/*.skel.h -> sockeye
# `make` builds, `make test` builds and runs every test on this kernel and
# in the kernel matrix, `make test-host` on this kernel only, `make vmtest`
# in the matrix only (KERNEL="6.1 6.12" by default, see scripts/vmtest.sh),
# `make vmlinux` regenerates bpf/vmlinux.h from the running kernel, V=1
# shows commands.

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers -Ibuild -Ibpf -Isrc
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -Wall -Wno-unused-value
# libbpf, libelf and zlib go in statically so the binary runs on hosts
# without them; libc stays shared. The test runner is fully static so it
# can run in a bare VM next to nothing but a kernel.
LIBS := -Wl,-Bstatic -lbpf -lelf -lz -Wl,-Bdynamic
TEST_LIBS := -static -lbpf -lelf -lz

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,build/%.skel.h,$(BPF_SRCS))
LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(patsubst src/%.c,build/%.o,$(LIB_SRCS))
TEST_SRCS := $(wildcard tests/*.c)
TEST_OBJS := $(patsubst tests/%.c,build/tests/%.o,$(TEST_SRCS))

# Debian cloud kernel series (or linux-image packages) the matrix boots.
KERNEL ?= 6.1 6.12

.PHONY: all test test-host vmtest vmlinux clean
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

sockeye: build/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LIBS) -o $@

tests/sockeye-tests: $(TEST_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(TEST_LIBS) -o $@

test: sockeye tests/sockeye-tests
	$(Q)./scripts/vmtest.sh host $(KERNEL) selfcheck

test-host: sockeye tests/sockeye-tests
	$(Q)./tests/sockeye-tests

vmtest: sockeye tests/sockeye-tests
	$(Q)./scripts/vmtest.sh $(KERNEL)

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > bpf/vmlinux.h

clean:
	rm -rf build sockeye tests/sockeye-tests
