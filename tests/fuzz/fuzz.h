/* SPDX-License-Identifier: GPL-2.0-only */
/* What the fuzz targets share. Each target is one file, tests/fuzz/NAME.c,
 * defining LLVMFuzzerTestOneInput(); it is linked with driver.c and the
 * sanitizer build of sockeye's objects (build/asan/libsockeye.a), and its
 * seed corpus is tests/fuzz/corpus/NAME/, where crash inputs are kept. A
 * target calls what src/'s headers declare: a command's printers are in
 * src/CMD_print.h, its session's record callback in src/CMD_session.h. */
#ifndef SOCKEYE_FUZZ_H
#define SOCKEYE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include "run.h"

/* Hands size bytes to fn as one ring-buffer record, through the callback
 * the ring buffer calls (reader_record), with record_size as the reader
 * of that command has it. The record is a copy of exactly size bytes, so
 * a read past its end is an AddressSanitizer report. */
void fuzz_record(record_fn fn, void *ctx, size_t record_size, const uint8_t *data, size_t size);

/* The input's first byte (0 if none), taken off it: a target's choice of
 * mode, such as text or JSON output. */
uint8_t fuzz_byte(const uint8_t **data, size_t *size);

/* How fuzz_run() ended. */
enum fuzz_end {
	FUZZ_RETURNED,
	FUZZ_EXITED,	/* it called exit(): a usage error, --help */
	FUZZ_PARSED,	/* it reached check_environment() or run_start(), the
			 * first steps of every command after its options */
};

/* Runs fn(ctx) until it returns, calls exit() or is done parsing options.
 * The targets are linked with -Wl,--wrap for those three functions. */
enum fuzz_end fuzz_run(int (*fn)(void *ctx), void *ctx);

#endif
