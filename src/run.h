/* SPDX-License-Identifier: GPL-2.0-only */
/* The running part every command shares: stop on SIGINT/SIGTERM or when
 * --duration is up, report at intervals, and read a ring buffer counting
 * what was lost. */
#ifndef SOCKEYE_RUN_H
#define SOCKEYE_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>

/* Installs the handlers and starts the --duration clock (0: no limit). */
void run_start(double duration);
bool run_should_stop(void);
/* Milliseconds to wait at most before the next look, capped by the deadline. */
int run_wait_ms(int want_ms);

/* What a periodic report covers: the time since the previous one. */
struct report_span {
	uint64_t end_ns;	/* CLOCK_REALTIME */
	uint64_t length_ns;
};

/* Returns 0 to go on, or -errno after saying what failed. */
typedef int (*report_fn)(void *ctx, const struct report_span *span);

/* Calls fn every interval seconds (0: only at the end) and flushes stdout,
 * until count reports are out (0: no limit) or a stop; on a stop between
 * two ticks, fn reports once more for the time since the last, so nothing
 * counted goes unsaid. The --duration clock restarts here, when counting
 * starts: --duration 5 -i 1 gives five full intervals. Returns fn's error,
 * or 0 (also when stdout went away: nobody is left to tell). */
int run_reports(double interval, unsigned long count, report_fn fn, void *ctx);

struct record_reader {
	struct ring_buffer *rb;
	int lost_fd;
};

int reader_open(struct record_reader *r, struct bpf_map *records, struct bpf_map *lost,
		ring_buffer_sample_fn fn, void *ctx);
/* Waits up to timeout_ms for records, then hands all queued ones to fn:
 * the programs wake the reader only when much is queued, so a timed-out
 * wait still has records to read. Returns how many, or -errno. */
int reader_poll(struct record_reader *r, int timeout_ms);
/* Records the programs could not queue, summed over CPUs. */
uint64_t reader_lost(const struct record_reader *r);
void reader_close(struct record_reader *r);

#endif
