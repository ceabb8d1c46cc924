// SPDX-License-Identifier: GPL-2.0-only
/* The part every fuzz target links; see fuzz.h. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"

void fuzz_record(record_fn fn, void *ctx, size_t record_size, const uint8_t *data, size_t size)
{
	struct record_reader r = { .record_size = record_size, .fn = fn, .fn_ctx = ctx };
	void *copy = malloc(size ? size : 1);

	if (!copy)
		return;
	memcpy(copy, data, size);
	reader_record(&r, copy, size);
	free(copy);
}

uint8_t fuzz_byte(const uint8_t **data, size_t *size)
{
	if (!*size)
		return 0;
	(*size)--;
	return *(*data)++;
}

static jmp_buf *catcher;

enum fuzz_end fuzz_run(int (*fn)(void *ctx), void *ctx)
{
	jmp_buf here;
	int end;

	catcher = &here;
	end = setjmp(here);
	if (end == FUZZ_RETURNED)
		fn(ctx);
	catcher = NULL;
	return end;
}

static void end_with(enum fuzz_end end)
{
	longjmp(*catcher, end);
}

/* Outside fuzz_run(), the real ones: exit() is libFuzzer's own then. */
void __real_exit(int status) __attribute__((noreturn));
bool __real_check_environment(void);
void __real_run_start(double duration);

void __wrap_exit(int status)
{
	if (catcher)
		end_with(FUZZ_EXITED);
	__real_exit(status);
}

bool __wrap_check_environment(void)
{
	if (catcher)
		end_with(FUZZ_PARSED);
	return __real_check_environment();
}

void __wrap_run_start(double duration)
{
	if (catcher)
		end_with(FUZZ_PARSED);
	__real_run_start(duration);
}
