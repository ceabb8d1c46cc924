// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye flows`: the session that loads the per-connection programs and
 * takes snapshots. Kernel side: bpf/flows.bpf.c; records: bpf/flows.h; the
 * command: src/flows.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "array.h"
#include "flows_session.h"
#include "maps.h"
#include "netns.h"
#include "pins.h"
#include "probe.h"
#include "programs.h"
#include "format.h"
#include "flows.skel.h"

#define GIVES_CONNECTIONS 1u
#define GIVES_RETRANS 2u
#define GIVES_DROPS 4u
#define GIVES_PACKETS 8u
#define GIVES_LAYERS 16u
#define GIVES_ACCEPTED 32u	/* the owners of accepted sockets */

static const struct hook_use flows_hooks[] = {
	{ "flows_state", GIVES_CONNECTIONS, PROTO_TCP_BIT },
	{ "flows_iter", GIVES_CONNECTIONS, PROTO_TCP_BIT },
	{ "flows_owners", GIVES_CONNECTIONS, PROTO_TCP_BIT },
	{ "twin_flow_end_a", GIVES_CONNECTIONS, PROTO_TCP_BIT },
	{ "twin_flow_end_b", GIVES_CONNECTIONS, PROTO_TCP_BIT },
	{ "flows_accept4", GIVES_ACCEPTED, PROTO_TCP_BIT },
	{ "flows_accept", GIVES_ACCEPTED, PROTO_TCP_BIT },
	{ "flows_retrans", GIVES_RETRANS, PROTO_TCP_BIT },
	{ "flows_synack", GIVES_RETRANS, PROTO_TCP_BIT },
	{ "flows_drop", GIVES_DROPS, PROTO_TCP_BIT },
	{ "flows_dev_queue", GIVES_PACKETS | GIVES_LAYERS, PROTO_TCP_BIT },
	{ "flows_tcp_in", GIVES_PACKETS | GIVES_LAYERS, PROTO_TCP_BIT },
	{ "flows_dev_xmit", GIVES_LAYERS, PROTO_TCP_BIT },
	{ "flows_dev_in", GIVES_LAYERS, PROTO_TCP_BIT },
	{ "flows_copy", GIVES_LAYERS, PROTO_TCP_BIT },
};

static const char *gives_name(int bit)
{
	static const char *const names[] = { "connections", "retransmits", "drops", "packets",
					     "layer times", "owners of accepted connections" };

	return bit < (int)(sizeof(names) / sizeof(names[0])) ? names[bit] : "?";
}

static const char *const *flows_lacks(void);

const struct program_set flows_programs = {
	.cmd = "flows",
	.hooks = flows_hooks,
	.n_hooks = sizeof(flows_hooks) / sizeof(flows_hooks[0]),
	.gives_name = gives_name,
	.elf_bytes = flows_bpf__elf_bytes,
	.lacks = flows_lacks,
};

const char *retrans_kind_name(int kind)
{
	static const char *const names[RETRANS_KINDS] = {
		[RETRANS_FAST] = "fast", [RETRANS_TIMEOUT] = "timeout",
		[RETRANS_PROBE] = "probe", [RETRANS_SYN] = "syn", [RETRANS_SYNACK] = "synack",
	};

	return kind >= 0 && kind < RETRANS_KINDS ? names[kind] : "?";
}

const char *layer_name(int layer)
{
	static const char *const names[LAYERS] = {
		[LAYER_RX_DEVICE] = "rx_device", [LAYER_RX_QUEUE] = "rx_queue",
		[LAYER_TX_TCP] = "tx_tcp", [LAYER_TX_DEVICE] = "tx_device",
	};

	return layer >= 0 && layer < LAYERS ? names[layer] : "?";
}

const char *drop_kind_name(int kind)
{
	static const char *const names[DROP_KINDS] = {
		[DROP_CSUM] = "csum", [DROP_SEQ] = "seq", [DROP_OTHER] = "other",
	};

	return kind >= 0 && kind < DROP_KINDS ? names[kind] : "?";
}

/* The kernel's drop reason names, copied from its BTF once: a process that
 * stays (the agent) frees the BTF, megabytes, after loading. */
static struct drop_reason {
	uint32_t value;
	char *name;	/* without the SKB_DROP_REASON_ prefix */
} *reasons;
static int n_reasons;

static void forget_drop_reasons(void)
{
	for (int i = 0; i < n_reasons; i++)
		free(reasons[i].name);
	free(reasons);
	reasons = NULL;
	n_reasons = 0;
}

/* The names of enum skb_drop_reason. */
int drop_reasons_copy(const struct btf *btf)
{
	static const char prefix[] = "SKB_DROP_REASON_";
	int id = btf ? btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM) : -1;
	const struct btf_type *t = id > 0 ? btf__type_by_id(btf, id) : NULL;

	forget_drop_reasons();
	/* libbpf 1.1 takes a type section at any offset (the kernel's own is
	 * aligned); reading a misaligned struct btf_type is undefined. */
	if (!t || (uintptr_t)t % _Alignof(struct btf_type) ||
	    !(reasons = calloc(btf_vlen(t), sizeof(*reasons))))
		return 0;
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;
		const char *name = btf__name_by_offset(btf, e->name_off);

		if (!name)
			continue;
		if (!strncmp(name, prefix, sizeof(prefix) - 1))
			name += sizeof(prefix) - 1;
		reasons[n_reasons].value = e->val;
		if ((reasons[n_reasons].name = strdup(name)))
			n_reasons++;
	}
	return n_reasons;
}

static void load_drop_reasons(void)
{
	if (!reasons)
		drop_reasons_copy(kernel_btf());
}

const char *drop_reason_name(uint32_t reason)
{
	static char unknown[32];

	if (reason == DROP_REASON_UNKNOWN)
		return "UNKNOWN";
	load_drop_reasons();
	for (int i = 0; i < n_reasons; i++)
		if (reasons[i].value == reason)
			return reasons[i].name;
	snprintf(unknown, sizeof(unknown), "REASON_%u", reason);
	return unknown;
}

const char *direction_name(int direction)
{
	return direction == FLOW_CLIENT ? "client" : direction == FLOW_SERVER ? "server" : "";
}

const char *ca_state_name(int state)
{
	static const char *const names[] = { "open", "disorder", "cwr", "recovery", "loss" };

	return state >= 0 && state < 5 ? names[state] : "?";
}

static int table_add(struct flow_table *t, const struct flow_record *r)
{
	if (!ARRAY_GROW(t->rows, t->n, t->cap))
		return -ENOMEM;
	t->rows[t->n++] = *r;
	return 0;
}

void flow_table_free(struct flow_table *t)
{
	free(t->rows);
	memset(t, 0, sizeof(*t));
}

/* The size of a record of this kind; 0 for none of ours. */
static size_t kind_size(uint8_t kind)
{
	switch (kind) {
	case FLOW_RECORD_CONN:
		return sizeof(struct flow_record);
	case FLOW_RECORD_RETRANS:
		return sizeof(struct retrans_record);
	case FLOW_RECORD_PACKET:
		return sizeof(struct packet_record);
	}
	return 0;
}

/* The ring buffer brings closed connections (kept for the next snapshot)
 * and, under --retrans-events or --packets, retransmits and segments. The
 * reader checked only the smallest size; whoever gets one reads it all. */
void flows_session_on_record(void *ctx, const void *record, size_t size)
{
	struct flows_session *s = ctx;
	const struct flow_record *r = record;

	if (!kind_size(r->kind) || size < kind_size(r->kind))
		return;
	if (r->kind != FLOW_RECORD_CONN && s->event_fn)
		s->event_fn(s->event_ctx, record, size);
	else if (r->kind == FLOW_RECORD_CONN && table_add(&s->closed, r))
		p_warn("out of memory: a closed connection is left out");
}

bool flows_drops_per_connection(void)
{
	static int known = -1;

	if (known < 0)
		known = tracepoint_arg_count("kfree_skb") >= 4;
	return known;
}

bool flows_drop_reasons_given(void)
{
	return tracepoint_arg_count("kfree_skb") >= 3;
}

/* What --drops leaves out on this kernel. */
static const char *const *flows_lacks(void)
{
	static const char *lacks[3];
	size_t n = 0;

	if (!flows_drop_reasons_given())
		lacks[n++] = "drop reasons (kfree_skb gives none before Linux 5.17): drops count "
			     "under UNKNOWN, and an established connection's dropped segments (bad "
			     "checksum, out of window) are not seen";
	if (!flows_drops_per_connection())
		lacks[n++] = "drops per connection (kfree_skb names no socket before Linux 6.11): "
			     "drops are counted by reason host-wide";
	lacks[n] = NULL;
	return lacks;
}

static void configure(struct flows_bpf *skel, const struct flows_config *cfg)
{
	set_filters(&skel->rodata->filter, &cfg->filters);
	skel->rodata->sk_id_key = socket_id_key();
	skel->rodata->filter_sport = cfg->sport;
	skel->rodata->filter_dport = cfg->dport;
	skel->rodata->show_listeners = cfg->listeners;
	skel->rodata->retrans_events = cfg->retrans_events;
	skel->rodata->packet_events = cfg->packets;
	skel->rodata->closed_records = !cfg->retrans_events && !cfg->packets && !cfg->counters_only;
	skel->rodata->entry_per_connection = !cfg->counters_only;
	skel->rodata->layer_times = cfg->layers;
	skel->rodata->drop_socket = flows_drops_per_connection();
	skel->rodata->drop_reason_given = flows_drop_reasons_given();
	skel->rodata->filter_netns = cfg->netns;
	skel->rodata->retrans_per_netns = cfg->counters_only;
	skel->rodata->task_btf = has_task_btf();
	/* Without -t these maps are never used: one entry each, not 1 MiB
	 * and more of kernel memory. */
	if (!cfg->layers) {
		bpf_map__set_max_entries(skel->maps.stamps, 1);
		bpf_map__set_max_entries(skel->maps.layers, 1);
	}
	if (!cfg->counters_only)
		bpf_map__set_max_entries(skel->maps.retrans_netns, 1);
	/* Counters only (the agent) send no records: the smallest ring buffer,
	 * one page, keeps its 4 MiB (mapped twice, 8 MiB) out of the agent's
	 * resident memory. */
	if (cfg->counters_only)
		bpf_map__set_max_entries(skel->maps.records, getpagesize());
	shrink_for_tests(skel->maps.flows);
}

/* What iterator passes wrote. */
struct pass_output {
	char *data;
	size_t len, cap;
};

/* Runs an iterator once, in the calling thread's network namespace, and
 * appends all it wrote to out. Returns 0 or -errno. */
static int append_pass(int link_fd, struct pass_output *out)
{
	int fd = bpf_iter_create(link_fd);
	ssize_t n = 0;

	if (fd < 0)
		return -errno;
	do {
		out->len += n;
		if (out->len == out->cap) {
			size_t cap = out->cap ? out->cap * 2 : 64 << 10;
			char *grown = realloc(out->data, cap);

			if (!grown) {
				close(fd);
				return -ENOMEM;
			}
			out->data = grown;
			out->cap = cap;
		}
	} while ((n = read(fd, out->data + out->len, out->cap - out->len)) > 0);
	n = n < 0 ? -errno : 0;
	close(fd);
	return n;
}

struct each_pass {
	int link_fd;
	struct pass_output *out;
};

static int pass_in_netns(void *ctx)
{
	const struct each_pass *p = ctx;

	return append_pass(p->link_fd, p->out);
}

/* Runs the connection iterator, which walks the namespace it is created
 * in, in the session's namespaces; what it wrote goes to out (free
 * out->data). Returns 0 or -errno. */
static int connection_passes(const struct flows_session *s, struct pass_output *out)
{
	struct each_pass p = { s->conn_iter_fd, out };

	*out = (struct pass_output){ 0 };
	return s->all_netns ? netns_each(pass_in_netns, &p) : append_pass(s->conn_iter_fd, out);
}

/* Runs an iterator for what its program writes to maps. */
static int run_iterator(int link_fd)
{
	struct pass_output out = { 0 };
	int err = append_pass(link_fd, &out);

	free(out.data);
	return err;
}

/* A pass of the connection iterator for what it writes to maps. */
static int run_connection_passes(const struct flows_session *s)
{
	struct pass_output out;
	int err = connection_passes(s, &out);

	free(out.data);
	return err;
}

/* Walks every process's files to learn who owns each TCP socket. */
static int walk_owners(struct flows_session *s)
{
	return run_iterator(s->owner_iter_fd);
}

/* The walk, when the last pass met sockets without an owner; on every
 * snapshot from an agent's pins, which do not include that count. The
 * walk matches sockets by the cookie they were given and cannot give one
 * (bpf/flows.bpf.c, flows_owners), so a pass of the connection iterator,
 * which gives every connection its cookie, goes first: before the first
 * snapshot none has run. */
static int find_owners(struct flows_session *s)
{
	int err;

	if (s->skel && !s->skel->data->ownerless)
		return 0;
	err = run_connection_passes(s);
	return err ? err : walk_owners(s);
}

/* The views that print records one by one take no snapshots, which is
 * when owners are looked for otherwise: look once a second, so that the
 * process that accepted a connection is known (and --pid can pick it). */
static void find_owners_now_and_then(void *ctx)
{
	struct flows_session *s = ctx;
	uint64_t now = monotonic_now_ns();

	if (now - s->owners_walked_ns < 1000000000ULL)
		return;
	s->owners_walked_ns = now;
	walk_owners(s);
}

int flows_session_start(struct flows_session *s, const struct flows_config *cfg,
			record_fn event_fn, void *ctx)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->all_netns = cfg->all_netns;
	s->event_fn = event_fn;
	s->event_ctx = ctx;
	s->skel = flows_bpf__open();
	if (!s->skel)
		return open_failed("flows");
	configure(s->skel, cfg);
	if (cfg->drops)
		load_drop_reasons();
	for (const char *const *lack = flows_lacks(); cfg->drops && *lack; lack++)
		p_warn("this kernel has no %s", *lack);
	err = require_programs(s->skel->obj, &flows_programs, GIVES_CONNECTIONS | GIVES_RETRANS |
			       (cfg->drops ? GIVES_DROPS : 0) | (cfg->packets ? GIVES_PACKETS : 0) |
			       (cfg->layers ? GIVES_LAYERS : 0) |
			       (cfg->counters_only ? 0 : GIVES_ACCEPTED), PROTO_TCP_BIT);
	/* The smallest record is the retransmit; flows_session_on_record tells them apart. */
	if (!err)
		err = start_reading(s->skel->skeleton, "flows", &s->reader,
				    sizeof(struct retrans_record), flows_session_on_record, s);
	if (err) {
		flows_session_stop(s);
		return err;
	}
	s->conn_iter_fd = bpf_link__fd(s->skel->links.flows_iter);
	s->owner_iter_fd = bpf_link__fd(s->skel->links.flows_owners);
	s->retrans_fd = bpf_map__fd(s->skel->maps.retrans_total);
	s->untracked_fd = bpf_map__fd(s->skel->maps.untracked);
	if (cfg->retrans_events || cfg->packets) {
		s->reader.between_polls = find_owners_now_and_then;
		find_owners_now_and_then(s);
	}
	/* Connections open before the start get their entries, and with them
	 * the retransmits they already had, from one pass (first_retransmit
	 * in bpf/flows.bpf.c). */
	if (cfg->counters_only && (err = run_connection_passes(s))) {
		p_err("cannot walk the TCP connections: %s", strerror(-err));
		flows_session_stop(s);
	}
	return err;
}

int flows_session_borrow(struct flows_session *s, const char *pin_dir, bool all_netns)
{
	int *const fds[] = { &s->conn_iter_fd, &s->owner_iter_fd, &s->retrans_fd,
			     &s->untracked_fd };
	/* Without all_netns, the totals of the caller's namespace instead. */
	const char *const names[] = { "flows_iter", "flows_owners",
				      all_netns ? "retrans_total" : "retrans_netns",
				      "untracked" };

	memset(s, 0, sizeof(*s));
	s->all_netns = all_netns;
	s->totals_netns = all_netns ? 0 : own_netns();
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		*fds[i] = -1;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		*fds[i] = open_pin(pin_dir, FLOWS_PIN_SUBDIR, names[i]);
		if (*fds[i] < 0) {
			int err = *fds[i];

			flows_session_stop(s);
			return err;
		}
	}
	return 0;
}

void flows_session_stop(struct flows_session *s)
{
	int fds[] = { s->conn_iter_fd, s->owner_iter_fd, s->retrans_fd, s->untracked_fd };

	reader_close(&s->reader);
	if (s->skel)
		flows_bpf__destroy(s->skel);	/* closes the fds */
	else
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
	s->skel = NULL;
	flow_table_free(&s->closed);
}

const struct bpf_object_skeleton *flows_session_skeleton(const struct flows_session *s)
{
	return s->skel->skeleton;
}

static int read_open_connections(struct flows_session *s, struct flow_table *t)
{
	const struct flow_record *r;
	struct pass_output out;
	int err;

	if (s->skel)
		s->skel->data->ownerless = 0;
	err = connection_passes(s, &out);
	for (r = (const void *)out.data; !err && (const char *)(r + 1) <= out.data + out.len; r++)
		err = table_add(t, r);
	free(out.data);
	return err;
}

/* Leaves only the closed rows. */
static void keep_closed_rows(struct flow_table *t)
{
	size_t kept = 0;

	for (size_t i = 0; i < t->n; i++)
		if (t->rows[i].closed)
			t->rows[kept++] = t->rows[i];
	t->n = kept;
}

int flows_snapshot(struct flows_session *s, struct flow_table *t, bool keep_closed)
{
	int err;

	if (keep_closed)
		keep_closed_rows(t);
	else
		t->n = 0;
	/* Closed ones first: one closing after this read is still in the
	 * iterator's pass, and comes as closed in the next snapshot. */
	reader_poll(&s->reader, 0);
	for (size_t i = 0; i < s->closed.n; i++)
		if ((err = table_add(t, &s->closed.rows[i])))
			return err;
	s->closed.n = 0;
	err = find_owners(s);
	return err ? err : read_open_connections(s, t);
}

/* One namespace's retransmits from the agent's retrans_netns: the sum
 * of its per-CPU values, zero before its first. */
static int netns_retrans_totals(int map_fd, uint32_t netns, uint64_t *totals)
{
	int ncpus = libbpf_num_possible_cpus();
	struct netns_retrans *v;
	int err = 0;

	if (ncpus < 0)
		return ncpus;
	if (!(v = calloc(ncpus, sizeof(*v))))
		return -ENOMEM;
	memset(totals, 0, RETRANS_KINDS * sizeof(*totals));
	if (bpf_map_lookup_elem(map_fd, &netns, v))
		err = errno == ENOENT ? 0 : -errno;
	for (int cpu = 0; !err && cpu < ncpus; cpu++)
		for (int k = 0; k < RETRANS_KINDS; k++)
			totals[k] += v[cpu].segs[k];
	free(v);
	return err;
}

int flows_retrans_totals(const struct flows_session *s, uint64_t *totals)
{
	if (s->totals_netns)
		return netns_retrans_totals(s->retrans_fd, s->totals_netns, totals);
	return percpu_array_sum(s->retrans_fd, RETRANS_KINDS, totals);
}

struct drop_walk {
	uint8_t proto;
	void (*fn)(void *ctx, uint32_t reason, uint64_t count);
	void *ctx;
};

static void each_reason(void *ctx, const void *key, uint64_t count)
{
	const struct drop_walk *w = ctx;
	struct drop_key k;

	memcpy(&k, key, sizeof(k));
	if (k.proto == w->proto)
		w->fn(w->ctx, k.reason, count);
}

int flows_drop_counts(const struct flows_session *s, uint8_t proto,
		      void (*fn)(void *ctx, uint32_t reason, uint64_t count), void *ctx)
{
	struct counter_snapshot now, none;
	struct drop_walk w = { proto, fn, ctx };
	int err;

	counter_snapshot_init(&now, sizeof(struct drop_key));
	counter_snapshot_init(&none, sizeof(struct drop_key));
	err = counter_snapshot_read(&now, bpf_map__fd(s->skel->maps.drop_reasons));
	/* Against an empty copy, every count is what grew since the start. */
	if (!err)
		counter_snapshot_diff(&now, &none, each_reason, &w);
	counter_snapshot_free(&now);
	return err;
}

int flows_layer_totals(const struct flows_session *s, uint64_t *slots, uint64_t *sum_ns)
{
	int err = percpu_array_sum(bpf_map__fd(s->skel->maps.layer_totals),
				   LAYERS * LAYER_SLOTS, slots);

	return err ? err : percpu_array_sum(bpf_map__fd(s->skel->maps.layer_sum_ns), LAYERS,
					    sum_ns);
}

int flows_conn_layers(const struct flows_session *s, uint64_t cookie, struct flow_layers *l)
{
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.layers), &cookie, l)) {
		memset(l, 0, sizeof(*l));
		return -errno;
	}
	return 0;
}

uint64_t flows_untracked(const struct flows_session *s)
{
	return percpu_counter(s->untracked_fd);
}

uint32_t flows_tracked_max(const struct flows_session *s)
{
	return bpf_map__max_entries(s->skel->maps.flows);
}
