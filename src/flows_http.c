// SPDX-License-Identifier: GPL-2.0-only
/* `flows --http`; see flows_http.h. The summaries live in an open-
 * addressing table keyed by the connection's two ends; when a probe run
 * is full, the oldest-placed entry of it gives way, so the table stays
 * bounded however many connections come and go. */
#include <stdlib.h>
#include <string.h>
#include "sockeye.h"
#include "flows_http.h"

#define SUMMARIES 8192	/* a power of two */
#define PROBES 8

struct conn_key {
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport, family;
};

struct summary_slot {
	bool used;
	struct conn_key key;
	struct http_summary summary;
};

struct flows_http {
	struct http_session session;
	struct summary_slot slots[SUMMARIES];
};

static struct conn_key key_of(const struct sock_tuple *t)
{
	struct conn_key k;

	memset(&k, 0, sizeof(k));	/* padding too: keys are compared whole */
	memcpy(k.saddr, t->saddr, sizeof(k.saddr));
	memcpy(k.daddr, t->daddr, sizeof(k.daddr));
	k.sport = t->sport;
	k.dport = t->dport;
	k.family = t->family;
	return k;
}

/* FNV-1a over the key's bytes. */
static uint32_t hash_of(const struct conn_key *k)
{
	const uint8_t *b = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* The slot of key, or with create the slot it takes (a free one of its
 * probe run, else the run's first, which is reset). */
static struct summary_slot *slot_of(struct summary_slot *slots, const struct conn_key *k,
				    bool create)
{
	uint32_t at = hash_of(k);
	struct summary_slot *free_slot = NULL, *s;

	for (int i = 0; i < PROBES; i++) {
		s = &slots[(at + i) & (SUMMARIES - 1)];
		if (s->used && !memcmp(&s->key, k, sizeof(*k)))
			return s;
		if (!s->used && !free_slot)
			free_slot = s;
	}
	if (!create)
		return NULL;
	s = free_slot ? free_slot : &slots[at & (SUMMARIES - 1)];
	*s = (struct summary_slot){ .used = true, .key = *k };
	return s;
}

static void add_exchange(void *ctx, const struct http_event *e)
{
	struct flows_http *h = ctx;
	struct conn_key k = key_of(&e->tuple);
	struct summary_slot *s = slot_of(h->slots, &k, true);

	s->summary.requests++;
	s->summary.latency_ns += e->x.response_ns - e->x.request_ns;
	s->summary.method = e->x.method;
	s->summary.status = e->x.status;
}

struct flows_http *flows_http_start(const struct sock_filters *filters)
{
	struct flows_http *h = calloc(1, sizeof(*h));

	if (!h) {
		p_err("out of memory");
		return NULL;
	}
	if (http_session_start(&h->session, filters, NULL, HTTP_DEFAULT_BYTES, add_exchange, h)) {
		free(h);
		return NULL;
	}
	return h;
}

void flows_http_read(struct flows_http *h)
{
	reader_poll(&h->session.reader, 0);
}

const struct http_summary *flows_http_of(const struct flows_http *h, const struct sock_tuple *t)
{
	struct conn_key k = key_of(t);
	/* A look-up changes nothing: the cast only shares slot_of(). */
	const struct summary_slot *s = slot_of((struct summary_slot *)h->slots, &k, false);

	return s ? &s->summary : NULL;
}

void flows_http_stop(struct flows_http *h)
{
	if (!h)
		return;
	http_session_stop(&h->session);
	free(h);
}
