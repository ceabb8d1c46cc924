/* SPDX-License-Identifier: GPL-2.0-only */
/* The running part every command shares: stop on SIGINT/SIGTERM or when
 * --duration is up, report at intervals, and read a ring buffer counting
 * what was lost. */
#ifndef SOCKEYE_RUN_H
#define SOCKEYE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>

/* Installs the handlers and starts the --duration clock (0: no limit). */
void run_start(double duration);
bool run_should_stop(void);
/* Ends the run as a signal would (a key that quits). */
void run_request_stop(void);
/* Milliseconds to wait at most before the next look, capped by the deadline. */
int run_wait_ms(int want_ms);

/* Gets each record the programs sent, as the command's record struct, and
 * its size: at least the record_size the reader was opened with, more for
 * the commands whose records differ in size. */
typedef void (*record_fn)(void *ctx, const void *record, size_t size);

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

/* Waits up to ms milliseconds, or less when something happens. */
typedef void (*wait_fn)(void *ctx, int ms);

/* run_reports() for a command with something to do between reports (the
 * full-screen view reads keys): wait(wait_ctx, ms) replaces the sleep
 * between looks. */
int run_reports_waiting(double interval, unsigned long count, report_fn fn, void *ctx,
			wait_fn wait, void *wait_ctx);
/* The same with an interval the wait may change (top's + and -): read
 * again between waits, the next report one new interval after the last. */
int run_reports_live(const double *interval, unsigned long count, report_fn fn, void *ctx,
		     wait_fn wait, void *wait_ctx);

struct record_reader {
	struct ring_buffer *rb;
	const struct bpf_object *obj;	/* whose skipped runs are lost too */
	int lost_fd;
	size_t record_size;
	record_fn fn;
	void *fn_ctx;
	/* If set, read_until_stopped() calls it with fn_ctx between polls
	 * (about every 100 ms), for upkeep a command does while it reads. */
	void (*between_polls)(void *ctx);
};

/* run_reports() for a command that sums records in user space: reads r
 * while it waits, so records reach their callback between reports. */
int run_reports_reading(struct record_reader *r, double interval, unsigned long count,
			report_fn fn, void *ctx);

/* The ring buffer's callback (ctx: the reader): hands a record of at
 * least record_size bytes to fn and drops shorter ones. The fuzz targets
 * feed it arbitrary bytes. */
int reader_record(void *ctx, void *data, size_t size);
/* Reads records of record_size from the records ring buffer into fn;
 * r must stay where it is until reader_close(). */
int reader_open(struct record_reader *r, const struct bpf_object *obj, struct bpf_map *records,
		struct bpf_map *lost, size_t record_size, record_fn fn, void *ctx);
/* Waits up to timeout_ms for records, then hands all queued ones to fn:
 * the programs wake the reader only when much is queued, so a timed-out
 * wait still has records to read. Returns how many, or -errno. This and
 * reader_lost() are no-ops on a reader that was never opened (zeroed). */
int reader_poll(struct record_reader *r, int timeout_ms);
/* Records lost: the ones the programs could not queue (reader_ring_full)
 * and the runs of the programs the kernel skipped (reader_skipped). */
uint64_t reader_lost(const struct record_reader *r);
/* Records the programs could not queue, summed over CPUs. */
uint64_t reader_ring_full(const struct record_reader *r);
/* Runs of the reader's programs the kernel skipped: skipped_runs(). */
uint64_t reader_skipped(const struct record_reader *r);
/* Safe on a reader that was never opened (zeroed). */
void reader_close(struct record_reader *r);

/* Says on stderr that the kernel skipped that many runs of cmd's programs
 * (skipped_runs), so some of what they count or show is missing. */
void warn_skipped(const char *cmd, uint64_t skipped);

/* Loads and attaches a skeleton's programs and opens the reader of its
 * `records` ring buffer; on failure says why and returns -errno. */
int start_reading(struct bpf_object_skeleton *s, const char *cmd, struct record_reader *r,
		  size_t record_size, record_fn fn, void *ctx);

/* The reading loop of a command that prints records one by one: polls
 * until the run ends or stdout is gone, flushing as it goes. Lost records
 * are reported under --json as a lost record (json_lost()) whenever their
 * count grows and at exit; as text at exit, with advice on how to lose
 * fewer.
 * Returns EXIT_OK or EXIT_FAIL. */
int read_until_stopped(struct record_reader *r, const char *cmd, bool json, const char *advice);

#endif
