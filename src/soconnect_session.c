// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye soconnect`'s session (soconnect_session.h): loads and attaches
 * the connect(2) programs and reads their records. Kernel side:
 * bpf/soconnect.bpf.c; records: bpf/soconnect.h; the command:
 * src/soconnect.c. */
#include <errno.h>
#include <string.h>
#include "sockeye.h"
#include "soconnect_session.h"
#include "format.h"
#include "maps.h"
#include "probe.h"
#include "programs.h"
#include "soconnect.skel.h"

#define GIVES_CALLS 1u

static const struct hook_use soconnect_hooks[] = {
	{ "soconnect_enter", GIVES_CALLS, PROTO_TCP_BIT | PROTO_UDP_BIT },
	{ "soconnect_exit", GIVES_CALLS, PROTO_TCP_BIT | PROTO_UDP_BIT },
};

static const char *gives_name(int bit)
{
	return "connect calls";
}

const struct program_set soconnect_programs = {
	.cmd = "soconnect",
	.hooks = soconnect_hooks,
	.n_hooks = sizeof(soconnect_hooks) / sizeof(soconnect_hooks[0]),
	.gives_name = gives_name,
	.elf_bytes = soconnect_bpf__elf_bytes,
};

const char *connect_result(int result)
{
	static const struct {
		int err;
		const char *text;
	} words[] = {
		{ 0, "Success" },
		{ EINPROGRESS, "In progress" },
		{ ECONNREFUSED, "Connection refused" },
		{ ENETUNREACH, "Network unreachable" },
		{ EHOSTUNREACH, "Host unreachable" },
		{ ETIMEDOUT, "Timeout" },
		{ EALREADY, "Not yet completed" },
		{ EISCONN, "Already connected" },
		{ EADDRINUSE, "Local addr in use" },
		{ EADDRNOTAVAIL, "No port available" },
		{ EAFNOSUPPORT, "Address family invalid" },
		{ EACCES, "Permission denied" },
		{ EPERM, "Permission denied" },
		{ EINTR, "Interrupted" },
		{ EAGAIN, "Routing cache insuff." },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (-words[i].err == result)
			return words[i].text;
	return errno_message(-(long long)result);
}

int soconnect_session_start(struct soconnect_session *s, const struct sock_filters *filters,
			    record_fn fn, void *ctx)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->skel = soconnect_bpf__open();
	if (!s->skel)
		return open_failed("soconnect");
	set_filters(&s->skel->rodata->filter, filters);
	s->skel->rodata->task_btf = has_task_btf();
	thread_slots_by_tid(s->skel->maps.calls);
	err = require_programs(s->skel->obj, &soconnect_programs, GIVES_CALLS, PROTO_TCP_BIT | PROTO_UDP_BIT);
	if (!err)
		err = start_reading(s->skel->skeleton, "soconnect", &s->reader,
				    sizeof(struct soconnect_record), fn, ctx);
	if (err)
		soconnect_session_stop(s);
	return err;
}

void soconnect_session_stop(struct soconnect_session *s)
{
	reader_close(&s->reader);
	soconnect_bpf__destroy(s->skel);
	s->skel = NULL;
}
