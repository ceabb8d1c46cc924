/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye events` as a library: load, attach and read the event programs.
 * The command prints the records; the tests check them. */
#ifndef SOCKEYE_EVENTS_SESSION_H
#define SOCKEYE_EVENTS_SESSION_H

#include <stdint.h>
#include "options.h"
#include "run.h"
#include "events.h"

struct events_config {
	struct sock_filters filters;
	uint32_t event_mask;	/* EV_BIT()s */
	uint8_t proto_mask;	/* PROTO_*_BIT */
};

struct events_session {
	struct events_bpf *skel;
	struct record_reader reader;
};

/* fn gets each struct event_record. Returns 0, or -errno after printing why. */
int events_session_start(struct events_session *s, const struct events_config *cfg,
			 record_fn fn, void *ctx);
void events_session_stop(struct events_session *s);

const char *event_kind_name(int kind);
/* Parses "connect,accept,close" into EV_BIT()s; returns 0 and sets *bad to
 * the first unknown name on error. */
uint32_t parse_event_list(const char *list, char *bad, size_t bad_len);

#endif
