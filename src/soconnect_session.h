/* SPDX-License-Identifier: GPL-2.0-only */
/* `sockeye soconnect` as a library: load, attach and read the connect(2)
 * programs. The command prints; the tests check. */
#ifndef SOCKEYE_SOCONNECT_SESSION_H
#define SOCKEYE_SOCONNECT_SESSION_H

#include "options.h"
#include "run.h"
#include "soconnect.h"

struct soconnect_session {
	struct soconnect_bpf *skel;
	struct record_reader reader;
};

/* fn gets each struct soconnect_record. Returns 0, or -errno after
 * printing why. */
int soconnect_session_start(struct soconnect_session *s, const struct sock_filters *filters,
			    record_fn fn, void *ctx);
void soconnect_session_stop(struct soconnect_session *s);

/* The seed tool's words for what connect() returned: "Success", "In
 * progress", "Connection refused", "Network unreachable", "Timeout", ...
 * and strerror() for the rest. result is 0 or -errno. */
const char *connect_result(int result);

#endif
