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

static volatile sig_atomic_t stop_requested;
static uint64_t deadline_ns;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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
	deadline_ns = duration > 0 ? now_ns() + (uint64_t)(duration * 1e9) : 0;
}

bool run_should_stop(void)
{
	return stop_requested || (deadline_ns && now_ns() >= deadline_ns);
}

int run_wait_ms(int want_ms)
{
	uint64_t now = now_ns();

	if (deadline_ns && deadline_ns > now && (deadline_ns - now) / 1000000 < (uint64_t)want_ms)
		return (deadline_ns - now) / 1000000 + 1;
	return want_ms;
}

int reader_open(struct record_reader *r, struct bpf_map *records, struct bpf_map *lost,
		ring_buffer_sample_fn fn, void *ctx)
{
	r->lost_fd = bpf_map__fd(lost);
	r->rb = ring_buffer__new(bpf_map__fd(records), fn, ctx, NULL);
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
	int ncpus = libbpf_num_possible_cpus();
	uint64_t total = 0, *per_cpu;
	uint32_t zero = 0;

	if (ncpus <= 0 || !(per_cpu = calloc(ncpus, sizeof(*per_cpu))))
		return 0;
	if (!bpf_map_lookup_elem(r->lost_fd, &zero, per_cpu))
		for (int i = 0; i < ncpus; i++)
			total += per_cpu[i];
	free(per_cpu);
	return total;
}

void reader_close(struct record_reader *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
}
