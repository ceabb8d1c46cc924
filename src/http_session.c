// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye http`'s session (http_session.h): loads and attaches the
 * payload programs, reads their records and the kernel's summary sums.
 * Kernel side: bpf/http.bpf.c; records: bpf/http.h; the command:
 * src/http.c. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "sockeye.h"
#include "http_session.h"
#include "maps.h"
#include "probe.h"
#include "http.skel.h"

#define GIVES_PAYLOAD 1u

#define HOOK(call) { "http_" #call "_e", GIVES_PAYLOAD, PROTO_TCP_BIT }, \
		   { "http_" #call "_x", GIVES_PAYLOAD, PROTO_TCP_BIT }

static const struct hook_use http_hooks[] = {
	HOOK(read), HOOK(write), HOOK(readv), HOOK(writev),
	HOOK(sendto), HOOK(recvfrom), HOOK(sendmsg), HOOK(recvmsg),
};

static const char *gives_name(int bit)
{
	return "payload";
}

const struct program_set http_programs = {
	.cmd = "http",
	.hooks = http_hooks,
	.n_hooks = sizeof(http_hooks) / sizeof(http_hooks[0]),
	.gives_name = gives_name,
	.elf_bytes = http_bpf__elf_bytes,
};

static void on_exchange(void *ctx, const struct http_exchange *x)
{
	const struct http_slot *slot = ctx;
	struct http_event e = { .x = *x, .tuple = slot->tuple, .owner = slot->owner };

	slot->session->fn(slot->session->ctx, &e);
}

/* A record is as long as the bytes it copied: len never reaches past it. */
static void on_record(void *ctx, const void *data, size_t size)
{
	struct http_session *s = ctx;
	const struct http_record *r = data;
	size_t copied = size - offsetof(struct http_record, data);
	struct http_slot *slot = &s->slots[r->conn_id % HTTP_CONNS];
	struct http_piece piece = {
		.ts_ns = r->ts_ns, .seq = r->seq, .count = r->count, .data = r->data,
		.len = r->len < copied ? r->len : copied, .dir = r->dir, .flags = r->flags,
	};

	s->records++;
	/* A free slot has no session yet, and its zero conn_id is no match. */
	if (!slot->session || slot->conn_id != r->conn_id) {
		slot->conn_id = r->conn_id;
		slot->session = s;
		http_conn_init(&slot->conn, on_exchange, slot);
	}
	slot->tuple = r->tuple;
	slot->owner = r->owner;
	http_conn_feed(&slot->conn, &piece);
}

/* Opens the programs with the filters set; the caller sets the rest of
 * their read-only data, then loads. */
static int session_open(struct http_session *s, const struct sock_filters *filters)
{
	memset(s, 0, sizeof(*s));
	s->skel = http_bpf__open();
	if (!s->skel)
		return open_failed("http");
	set_filters(&s->skel->rodata->filter, filters);
	return require_programs(s->skel->obj, &http_programs, GIVES_PAYLOAD, PROTO_TCP_BIT);
}

int http_session_start(struct http_session *s, const struct sock_filters *filters,
		       uint32_t max_bytes, http_event_fn fn, void *ctx)
{
	int err = session_open(s, filters);

	s->fn = fn;
	s->ctx = ctx;
	if (err)
		goto out;
	s->slots = calloc(HTTP_CONNS, sizeof(*s->slots));
	if (!s->slots) {
		p_err("cannot allocate the connection table: %s", strerror(errno));
		err = -ENOMEM;
		goto out;
	}
	s->skel->rodata->max_bytes = max_bytes;
	bpf_map__set_max_entries(s->skel->maps.pending, 1);	/* for summing only */
	err = start_reading(s->skel->skeleton, "http", &s->reader,
			    offsetof(struct http_record, data), on_record, s);
out:
	if (err)
		http_session_stop(s);
	return err;
}

int http_sums_start(struct http_session *s, const struct sock_filters *filters, bool by_path,
		    const char *path_prefix)
{
	int err = session_open(s, filters);

	if (!err) {
		s->skel->rodata->summarize = true;
		s->skel->rodata->group_by_path = by_path;
		strncpy((char *)s->skel->rodata->path_prefix, path_prefix, HTTP_PATH_LEN);
		s->skel->rodata->path_prefix_len = strlen(path_prefix);
		/* Nothing to read: the smallest ring buffer, unmapped. */
		bpf_map__set_max_entries(s->skel->maps.records, getpagesize());
		err = load_and_attach(s->skel->skeleton, "http");
	}
	if (err)
		http_session_stop(s);
	return err;
}

int http_sums_read(const struct http_session *s, http_sum_fn fn, void *ctx)
{
	int fd = bpf_map__fd(s->skel->maps.sums), ncpus = libbpf_num_possible_cpus();
	struct http_sum_key key, *prev = NULL;
	struct http_sum *percpu, total;
	int err;

	if (ncpus < 0)
		return ncpus;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	while (!(err = bpf_map_get_next_key(fd, prev, &key))) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, percpu))
			continue;	/* not there any more */
		memset(&total, 0, sizeof(total));
		for (int cpu = 0; cpu < ncpus; cpu++) {
			total.count += percpu[cpu].count;
			total.sum_ns += percpu[cpu].sum_ns;
			for (int i = 0; i < HTTP_LATENCY_SLOTS; i++)
				total.slots[i] += percpu[cpu].slots[i];
		}
		fn(ctx, &key, &total);
	}
	free(percpu);
	return err == -ENOENT ? 0 : err;
}

uint64_t http_sums_full(const struct http_session *s)
{
	return percpu_counter(bpf_map__fd(s->skel->maps.sums_full));
}

uint64_t http_skipped(const struct http_session *s)
{
	return skipped_runs(s->skel->obj);
}

void http_session_stop(struct http_session *s)
{
	reader_close(&s->reader);
	http_bpf__destroy(s->skel);
	s->skel = NULL;
	free(s->slots);
	s->slots = NULL;
}
