// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "sockeye.h"
#include "run.h"
#include "maps.h"
#include "format.h"
#include "probe.h"
#include "json.h"

static volatile sig_atomic_t stop_requested;
static uint64_t deadline_ns;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
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
	deadline_ns = duration > 0 ? monotonic_now_ns() + (uint64_t)(duration * 1e9) : 0;
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

bool run_sleep(double secs)
{
	uint64_t until = monotonic_now_ns() + (uint64_t)(secs * 1e9);

	while (!run_should_stop()) {
		uint64_t now = monotonic_now_ns(), left_ms;

		if (now >= until)
			return true;
		left_ms = (until - now + 999999) / 1000000;
		/* Short naps: a Ctrl-C is seen within 100 ms even if the
		 * signal lands just before usleep() starts. */
		usleep(run_wait_ms(left_ms < 100 ? left_ms : 100) * 1000);
	}
	return false;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct record_reader *r = ctx;

	if (size >= r->record_size)
		r->fn(r->fn_ctx, data);
	return 0;
}

int reader_open(struct record_reader *r, struct bpf_map *records, struct bpf_map *lost,
		size_t record_size, record_fn fn, void *ctx)
{
	r->lost_fd = bpf_map__fd(lost);
	r->record_size = record_size;
	r->fn = fn;
	r->fn_ctx = ctx;
	r->rb = ring_buffer__new(bpf_map__fd(records), on_record, r, NULL);
	if (!r->rb) {
		int err = -errno;

		p_err("cannot open the ring buffer: %s", strerror(-err));
		return err;
	}
	return 0;
}

int reader_poll(struct record_reader *r, int timeout_ms)
{
	int err = ring_buffer__poll(r->rb, timeout_ms);

	if (err < 0 && err != -EINTR)
		return err;
	return ring_buffer__consume(r->rb);
}

uint64_t reader_lost(const struct record_reader *r)
{
	return percpu_sum(r->lost_fd, 0);
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
	return reader_open(r, bpf_object__find_map_by_name(*s->obj, "records"),
			   bpf_object__find_map_by_name(*s->obj, "lost_records"),
			   record_size, fn, ctx);
}

static void report_lost(const char *cmd, bool json, uint64_t lost, const char *advice)
{
	struct json j;

	if (json) {
		json_begin(&j, stdout);
		json_str(&j, "type", "lost");
		json_uint(&j, "count", lost);
		json_end(&j);
	} else if (lost) {
		fprintf(stderr, "sockeye %s: %llu records lost: the ring buffer was full; %s\n",
			cmd, (unsigned long long)lost, advice);
	}
}

int read_until_stopped(struct record_reader *r, const char *cmd, bool json, const char *advice)
{
	uint64_t lost, lost_shown = 0;
	int err = 0;

	while (!run_should_stop()) {
		err = reader_poll(r, run_wait_ms(100));
		if (err < 0) {
			p_err("reading records failed: %s", strerror(-err));
			break;
		}
		err = 0;
		lost = reader_lost(r);
		if (json && lost > lost_shown) {
			report_lost(cmd, true, lost, NULL);
			lost_shown = lost;
		}
		if (fflush(stdout) || ferror(stdout))
			break;	/* the reader went away: nothing more to say */
	}
	reader_poll(r, 0);
	report_lost(cmd, json, reader_lost(r), advice);
	fflush(stdout);
	return err ? EXIT_FAIL : EXIT_OK;
}
