// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "sockeye.h"
#include "run.h"
#include "maps.h"
#include "format.h"
#include "programs.h"
#include "json.h"

static volatile sig_atomic_t stop_requested;
static uint64_t deadline_ns, duration_ns;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* --duration counts from when watching starts, after loading: that can
 * take seconds (under emulation, say). */
static void deadline_from(uint64_t start_ns)
{
	deadline_ns = duration_ns ? start_ns + duration_ns : 0;
}

void run_start(double duration)
{
	struct sigaction sa = { .sa_handler = request_stop };

	/* No SA_RESTART: a blocked epoll_wait must return at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A closed pipe (sockeye ... | head) ends the run through a write
	 * error and a clean exit, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	/* Into a file or pipe, write in large blocks: a write(2) per 4 KiB was a
	 * visible share of the cost at high event rates. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	stop_requested = 0;
	duration_ns = duration > 0 ? duration * 1e9 : 0;
	deadline_from(monotonic_now_ns());
}

void run_request_stop(void)
{
	stop_requested = 1;
}

bool run_should_stop(void)
{
	return stop_requested || (deadline_ns && monotonic_now_ns() >= deadline_ns);
}

int run_wait_ms(int want_ms)
{
	uint64_t now = monotonic_now_ns();

	if (deadline_ns && deadline_ns > now && (deadline_ns - now) / 1000000 < (uint64_t)want_ms)
		return (deadline_ns - now) / 1000000 + 1;
	return want_ms;
}

static void sleep_for(void *ctx, int ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&ts, NULL);	/* a signal ends it early */
}

/* Waits until the monotonic time `until`, the deadline, a signal or a
 * change of *interval, in short steps so that a signal just before a wait
 * is not missed long. */
static void wait_until(uint64_t until, wait_fn wait, void *wait_ctx, const double *interval)
{
	double was = *interval;
	uint64_t now;

	while (!run_should_stop() && *interval == was && (now = monotonic_now_ns()) < until) {
		uint64_t ms = (until - now + 999999) / 1000000;

		wait(wait_ctx, run_wait_ms(ms < 100 ? ms : 100));
	}
}

/* Returns fn's error, 1 if stdout went away, else 0. */
static int report(report_fn fn, void *ctx, uint64_t *last)
{
	uint64_t now = monotonic_now_ns();
	struct report_span span = {
		.end_ns = now + monotonic_to_realtime_offset(),
		.length_ns = now - *last,
	};
	int err;

	*last = now;
	err = fn(ctx, &span);
	if (!err && (fflush(stdout) || ferror(stdout)))
		return 1;
	return err;
}

int run_reports(double interval, unsigned long count, report_fn fn, void *ctx)
{
	return run_reports_waiting(interval, count, fn, ctx, sleep_for, NULL);
}

int run_reports_waiting(double interval, unsigned long count, report_fn fn, void *ctx,
			wait_fn wait, void *wait_ctx)
{
	return run_reports_live(&interval, count, fn, ctx, wait, wait_ctx);
}

int run_reports_live(const double *interval, unsigned long count, report_fn fn, void *ctx,
		     wait_fn wait, void *wait_ctx)
{
	uint64_t period = 0, last = monotonic_now_ns(), next = last;
	unsigned long done = 0;
	bool due;
	int err;

	deadline_from(last);
	for (;;) {
		if (period != (uint64_t)(*interval * 1e9)) {	/* at the start, or changed */
			period = *interval * 1e9;
			next = last + period;
		}
		wait_until(period ? next : UINT64_MAX, wait, wait_ctx, interval);
		due = period && monotonic_now_ns() >= next;
		if (due) {
			/* After a pause (SIGSTOP), the next tick is the next one ahead. */
			while (next <= monotonic_now_ns())
				next += period;
			err = report(fn, ctx, &last);
			if (err || (count && ++done == count))
				break;
		}
		if (run_should_stop()) {
			err = due ? 0 : report(fn, ctx, &last);
			break;
		}
	}
	return err < 0 ? err : 0;
}

static void poll_reader(void *reader, int ms)
{
	reader_poll(reader, ms);
}

int run_reports_reading(struct record_reader *r, double interval, unsigned long count,
			report_fn fn, void *ctx)
{
	return run_reports_waiting(interval, count, fn, ctx, poll_reader, r);
}

int reader_record(void *ctx, void *data, size_t size)
{
	struct record_reader *r = ctx;

	if (size >= r->record_size)
		r->fn(r->fn_ctx, data, size);
	return 0;
}

int reader_open(struct record_reader *r, const struct bpf_object *obj, struct bpf_map *records,
		struct bpf_map *lost, size_t record_size, record_fn fn, void *ctx)
{
	r->obj = obj;
	r->lost_fd = bpf_map__fd(lost);
	r->record_size = record_size;
	r->fn = fn;
	r->fn_ctx = ctx;
	r->rb = ring_buffer__new(bpf_map__fd(records), reader_record, r, NULL);
	if (!r->rb) {
		int err = -errno;

		p_err("cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int reader_poll(struct record_reader *r, int timeout_ms)
{
	int err;

	if (!r->rb)
		return 0;
	err = ring_buffer__poll(r->rb, timeout_ms);

	if (err < 0 && err != -EINTR)
		return err;
	return ring_buffer__consume(r->rb);
}

uint64_t reader_ring_full(const struct record_reader *r)
{
	return r->rb ? percpu_counter(r->lost_fd) : 0;
}

uint64_t reader_skipped(const struct record_reader *r)
{
	return r->rb ? skipped_runs(r->obj) : 0;
}

uint64_t reader_lost(const struct record_reader *r)
{
	return reader_ring_full(r) + reader_skipped(r);
}

void reader_close(struct record_reader *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
}

int start_reading(struct bpf_object_skeleton *s, const char *cmd, struct record_reader *r,
		  size_t record_size, record_fn fn, void *ctx)
{
	int err = load_and_attach(s, cmd);

	if (err)
		return err;
	return reader_open(r, *s->obj, bpf_object__find_map_by_name(*s->obj, "records"),
			   bpf_object__find_map_by_name(*s->obj, "lost_records"),
			   record_size, fn, ctx);
}

void warn_skipped(const char *cmd, uint64_t skipped)
{
	p_warn("%s: the kernel skipped %llu runs of its programs, each already running on "
	       "that CPU when an interrupt came; what they would have seen is missing",
	       cmd, (unsigned long long)skipped);
}

static void report_lost(const char *cmd, uint64_t ring_full, uint64_t skipped,
			const char *advice)
{
	if (ring_full)
		fprintf(stderr, "sockeye %s: %llu records lost: the ring buffer was full; %s\n",
			cmd, (unsigned long long)ring_full, advice);
	if (skipped)
		warn_skipped(cmd, skipped);
}

int read_until_stopped(struct record_reader *r, const char *cmd, bool json, const char *advice)
{
	struct json_lost lost = {};
	uint64_t skipped;
	int err = 0;

	deadline_from(monotonic_now_ns());
	while (!run_should_stop()) {
		err = reader_poll(r, run_wait_ms(100));
		if (err < 0) {
			p_err("reading records failed: %s", strerror(-err));
			break;
		}
		err = 0;
		if (r->between_polls)
			r->between_polls(r->fn_ctx);
		/* Text says the lost at exit only: no reading the counters (a
		 * system call per program) between polls. */
		if (json) {
			skipped = reader_skipped(r);
			json_lost(&lost, reader_ring_full(r) + skipped, skipped, false);
		}
		if (fflush(stdout) || ferror(stdout))
			break;	/* the reader went away: nothing more to say */
	}
	reader_poll(r, 0);
	skipped = reader_skipped(r);
	if (json)
		json_lost(&lost, reader_ring_full(r) + skipped, skipped, true);
	else
		report_lost(cmd, reader_ring_full(r), skipped, advice);
	fflush(stdout);
	return err ? EXIT_FAIL : EXIT_OK;
}
