// SPDX-License-Identifier: GPL-2.0-only
/* `sockeye events`' session (events_session.h): picks, loads and attaches
 * the programs of the chosen events and reads their records. Kernel side:
 * bpf/events.bpf.c; records: bpf/events.h; the command: src/events.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "sockeye.h"
#include "events_session.h"
#include "maps.h"
#include "probe.h"
#include "programs.h"
#include "sockio.h"
#include "events.skel.h"

#define TCP PROTO_TCP_BIT
#define UDP PROTO_UDP_BIT
/* The cgroup socket hooks reach the socket through KFUNC_TO_KERN; the
 * fexit and fentry programs beside them stand in where it is missing. */

static const struct hook_use event_hooks[] = {
	{ "set_state", EV_BIT(EV_CONNECT) | EV_BIT(EV_LISTEN) | EV_BIT(EV_DISCONNECT) |
		       EV_BIT(EV_STATE), TCP },
	SOCK_IO_USES("send_length", "recv_length", "ev", "", EV_BIT(EV_SEND), EV_BIT(EV_RECV), TCP | UDP),
	{ "send_reset", EV_BIT(EV_RESET_SENT), TCP },
	{ "receive_reset", EV_BIT(EV_RESET_RECV), TCP },
	{ "error_report", EV_BIT(EV_ERROR), TCP | UDP },
	{ "twin_forget_a", 0, TCP, true },
	{ "twin_forget_b", 0, TCP, true },
	{ "sock_create", EV_BIT(EV_CREATE), TCP | UDP, true, "create", KFUNC_TO_KERN },
	{ "ev_create4_fx", EV_BIT(EV_CREATE), TCP | UDP, true, "create" },
	{ "ev_create6_fx", EV_BIT(EV_CREATE), TCP | UDP, true, "create" },
	{ "sock_release", EV_BIT(EV_CLOSE), TCP | UDP, false, "close", KFUNC_TO_KERN },
	{ "ev_release_fe", EV_BIT(EV_CLOSE), TCP | UDP, false, "close" },
	{ "post_bind4", EV_BIT(EV_BIND), TCP | UDP, false, "bind", KFUNC_TO_KERN },
	{ "post_bind6", EV_BIT(EV_BIND), TCP | UDP, false, "bind", KFUNC_TO_KERN },
	{ "ev_bind4_fx", EV_BIT(EV_BIND), TCP | UDP, false, "bind" },
	{ "ev_bind6_fx", EV_BIT(EV_BIND), TCP | UDP, false, "bind" },
	{ "connect4", EV_BIT(EV_CONNECT), UDP, false, "UDP connect", KFUNC_TO_KERN },
	{ "connect6", EV_BIT(EV_CONNECT), UDP, false, "UDP connect", KFUNC_TO_KERN },
	{ "ev_connect_fe", EV_BIT(EV_CONNECT), UDP, false, "UDP connect" },
	{ "exit_accept4", EV_BIT(EV_ACCEPT), TCP },
	{ "exit_accept", EV_BIT(EV_ACCEPT), TCP },
	{ "enter_shutdown", EV_BIT(EV_SHUTDOWN), TCP | UDP },
	{ "exit_shutdown", EV_BIT(EV_SHUTDOWN), TCP | UDP },
};

static const char *const kind_names[EV_KIND_COUNT] = {
	[EV_CREATE] = "create",
	[EV_BIND] = "bind",
	[EV_LISTEN] = "listen",
	[EV_CONNECT] = "connect",
	[EV_ACCEPT] = "accept",
	[EV_SEND] = "send",
	[EV_RECV] = "recv",
	[EV_SHUTDOWN] = "shutdown",
	[EV_DISCONNECT] = "disconnect",
	[EV_RESET_SENT] = "reset-sent",
	[EV_RESET_RECV] = "reset-recv",
	[EV_ERROR] = "error",
	[EV_CLOSE] = "close",
	[EV_STATE] = "state",
};

const char *event_kind_name(int kind)
{
	return kind >= 0 && kind < EV_KIND_COUNT ? kind_names[kind] : "?";
}

const struct program_set events_programs = {
	.cmd = "events",
	.hooks = event_hooks,
	.n_hooks = sizeof(event_hooks) / sizeof(event_hooks[0]),
	.gives_name = event_kind_name,
	.elf_bytes = events_bpf__elf_bytes,
};

uint32_t parse_event_list(const char *list, char *bad, size_t bad_len)
{
	char *copy = strdup(list), *save = NULL;
	uint32_t mask = 0;

	if (!copy)
		return 0;
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		int kind = 0;

		while (kind < EV_KIND_COUNT && strcmp(name, kind_names[kind]))
			kind++;
		if (kind == EV_KIND_COUNT) {
			snprintf(bad, bad_len, "%s", name);
			mask = 0;
			break;
		}
		mask |= EV_BIT(kind);
	}
	if (!mask && !bad[0])
		snprintf(bad, bad_len, "%s", list);
	free(copy);
	return mask;
}

static void warn_missing(uint32_t missing)
{
	char names[256] = "";
	size_t used = 0;

	for (int kind = 0; kind < EV_KIND_COUNT; kind++)
		if (missing & EV_BIT(kind))
			used += snprintf(names + used, sizeof(names) - used, "%s%s",
					 used ? ", " : "", kind_names[kind]);
	p_warn("this kernel gives no %s events; the rest are shown", names);
}

int events_session_start(struct events_session *s, const struct events_config *cfg,
			 record_fn fn, void *ctx)
{
	uint32_t missing;
	int err;

	memset(s, 0, sizeof(*s));
	s->skel = events_bpf__open();
	if (!s->skel)
		return open_failed("events");
	set_filters(&s->skel->rodata->filter, &cfg->filters);
	s->skel->rodata->task_btf = has_task_btf();
	s->skel->rodata->sk_id_key = socket_id_key();
	s->skel->rodata->event_mask = cfg->event_mask;
	s->skel->rodata->proto_mask = cfg->proto_mask;
	missing = select_programs(s->skel->obj, &events_programs, cfg->event_mask,
				  cfg->proto_mask);
	if (missing && !(cfg->event_mask & ~missing)) {
		p_err("none of the requested events can be traced on this kernel "
		      "(see 'sockeye features')");
		err = -EOPNOTSUPP;
	} else {
		if (missing)
			warn_missing(missing);
		err = start_reading(s->skel->skeleton, "events", &s->reader,
				    sizeof(struct event_record), fn, ctx);
	}
	if (err)
		events_session_stop(s);
	return err;
}

void events_session_stop(struct events_session *s)
{
	reader_close(&s->reader);
	events_bpf__destroy(s->skel);
	s->skel = NULL;
}
