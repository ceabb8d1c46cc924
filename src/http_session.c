// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye http`'s session (http_session.h): loads and attaches the
 * payload programs (and the uprobes on the TLS libraries), reads their
 * records and the kernel's summary sums. Kernel side: bpf/http.bpf.c;
 * records: bpf/http.h; the command: src/http.c. */
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
#include "programs.h"
#include "http.skel.h"

#define GIVES_PAYLOAD 1u
#define GIVES_TLS 2u

#define HOOK(call) { "http_" #call "_e", GIVES_PAYLOAD, PROTO_TCP_BIT }, \
		   { "http_" #call "_x", GIVES_PAYLOAD, PROTO_TCP_BIT }

static const struct hook_use http_hooks[] = {
	HOOK(read), HOOK(write), HOOK(readv), HOOK(writev),
	HOOK(sendto), HOOK(recvfrom), HOOK(sendmsg), HOOK(recvmsg),
	{ "tls_send_e", GIVES_TLS, PROTO_TCP_BIT }, { "tls_recv_e", GIVES_TLS, PROTO_TCP_BIT },
	{ "tls_x", GIVES_TLS, PROTO_TCP_BIT }, { "tls_ex_x", GIVES_TLS, PROTO_TCP_BIT },
};

static const char *gives_name(int bit)
{
	return 1u << bit == GIVES_TLS ? "HTTPS plaintext" : "payload";
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
	struct http_event e = { .x = *x, .tuple = slot->tuple, .owner = slot->owner,
				.tls = slot->tls };

	slot->session->fn(slot->session->ctx, &e);
}

/* A record is as long as the bytes it copied: len never reaches past it. */
void http_session_on_record(void *ctx, const void *data, size_t size)
{
	struct http_session *s = ctx;
	const struct http_record *r = data;
	size_t copied = size - offsetof(struct http_record, data);
	/* An id is its CPU (above bit 48) and that CPU's count of connections
	 * (bpf/http.bpf.c, new_conn_id()): the CPU moves the slot too, or the
	 * first connections of each CPU would share theirs and reset each
	 * other's parsers. 1021, a prime, spreads them. */
	struct http_slot *slot = &s->slots[((r->conn_id & ((1ULL << 48) - 1)) +
					    (r->conn_id >> 48) * 1021) % HTTP_CONNS];
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
	slot->tls = r->flags & HTTP_FROM_TLS;
	http_conn_feed(&slot->conn, &piece);
}

/* GIVES_TLS if the TLS programs can be used with these libraries; else 0,
 * after saying why HTTPS is not seen. */
static uint32_t tls_possible(const struct tls_libs *tls)
{
	char why[256];

	if (!tls)
		return 0;
	if (!tls->n) {
		p_warn("HTTPS is not seen: no TLS library found (OpenSSL 3's libssl.so.3, GnuTLS's "
		       "libgnutls.so.30; --tls-lib adds other copies); cleartext HTTP is");
		return 0;
	}
	if (!uprobes_available(why, sizeof(why))) {
		p_warn("HTTPS is not seen: %s; cleartext HTTP is", why);
		return 0;
	}
	return GIVES_TLS;
}

/* Opens the programs with the filters set; the caller sets the rest of
 * their read-only data, then loads. */
static int session_open(struct http_session *s, const struct sock_filters *filters,
			const struct tls_libs *tls)
{
	uint32_t wanted;

	memset(s, 0, sizeof(*s));
	s->skel = http_bpf__open();
	if (!s->skel)
		return open_failed("http");
	set_filters(&s->skel->rodata->filter, filters);
	s->skel->rodata->task_btf = has_task_btf();
	thread_slots_by_tid(s->skel->maps.calls);
	thread_slots_by_tid(s->skel->maps.tls_calls);
	wanted = GIVES_PAYLOAD | tls_possible(tls);
	s->skel->rodata->tls = wanted & GIVES_TLS;
	s->tls_libs = wanted & GIVES_TLS ? tls : NULL;
	return require_programs(s->skel->obj, &http_programs, wanted, PROTO_TCP_BIT);
}

/* Once the programs run: the uprobes on the TLS libraries. */
static void attach_tls(struct http_session *s)
{
	if (s->tls_libs && !tls_attach(s->skel->obj, s->tls_libs, &s->tls))
		p_warn("HTTPS is not seen: no TLS library could be probed; cleartext HTTP is");
}

int http_session_start(struct http_session *s, const struct sock_filters *filters,
		       const struct tls_libs *tls, uint32_t max_bytes, http_event_fn fn,
		       void *ctx)
{
	int err = session_open(s, filters, tls);

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
			    offsetof(struct http_record, data), http_session_on_record, s);
	if (!err)
		attach_tls(s);
out:
	if (err)
		http_session_stop(s);
	return err;
}

int http_sums_start(struct http_session *s, const struct sock_filters *filters,
		    const struct tls_libs *tls, bool by_path, const char *path_prefix)
{
	int err = session_open(s, filters, tls);

	if (!err) {
		s->skel->rodata->summarize = true;
		s->skel->rodata->group_by_path = by_path;
		strncpy((char *)s->skel->rodata->path_prefix, path_prefix, HTTP_PATH_LEN);
		s->skel->rodata->path_prefix_len = strlen(path_prefix);
		/* Nothing to read: the smallest ring buffer, unmapped. */
		bpf_map__set_max_entries(s->skel->maps.records, getpagesize());
		err = load_and_attach(s->skel->skeleton, "http");
	}
	if (!err)
		attach_tls(s);
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
	tls_detach(&s->tls);
	reader_close(&s->reader);
	http_bpf__destroy(s->skel);
	s->skel = NULL;
	free(s->slots);
	s->slots = NULL;
}

const struct bpf_object_skeleton *http_session_skeleton(const struct http_session *s)
{
	return s->skel->skeleton;
}
