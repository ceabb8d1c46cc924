// SPDX-License-Identifier: GPL-2.0-only
/* The session the three counting commands share (sockstat_session.h):
 * `sockstat` (src/sockstat.c), `sofamily` and `soprotocol` (src/socount.c).
 * Loads the programs of the part asked for and reads the counters. Kernel
 * side: bpf/sockstat.bpf.c; shared layout: bpf/sockstat.h. */
#include <errno.h>
#include <string.h>
#include "sockeye.h"
#include "probe.h"
#include "sockstat_session.h"
#include "programs.h"
#include "sockstat.skel.h"

/* Each counter's name: its JSON key and the agent's "call" label. */
static const char *const counter_keys[SS_COUNTERS] = {
	[SS_SOCKET] = "socket",
	[SS_SOCKETPAIR] = "socketpair",
	[SS_BIND] = "bind",
	[SS_LISTEN] = "listen",
	[SS_ACCEPT] = "accept",
	[SS_CONNECT] = "connect",
	[SS_SEND] = "send",
	[SS_RECV] = "recv",
	[SS_SHUTDOWN] = "shutdown",
	[SS_SOCK_SEND] = "sock_send",
	[SS_SOCK_RECV] = "sock_recv",
};

static const char *const kind_names[SO_KINDS] = {
	[SO_ACCEPT] = "accept",
	[SO_CONNECT] = "connect",
};

const char *ss_counter_key(int counter)
{
	return counter >= 0 && counter < SS_COUNTERS ? counter_keys[counter] : "?";
}

const char *so_kind_name(int kind)
{
	return kind >= 0 && kind < SO_KINDS ? kind_names[kind] : "?";
}

/* Every program of the object is in exactly one of these two tables. */
static const struct hook_use call_hooks[] = {
	{ "ss_socket", SS_BIT(SS_SOCKET), ALL_PROTOS },
	{ "ss_socketpair", SS_BIT(SS_SOCKETPAIR), ALL_PROTOS },
	{ "ss_bind", SS_BIT(SS_BIND), ALL_PROTOS },
	{ "ss_listen", SS_BIT(SS_LISTEN), ALL_PROTOS },
	{ "ss_accept", SS_BIT(SS_ACCEPT), ALL_PROTOS },
	{ "ss_accept4", SS_BIT(SS_ACCEPT), ALL_PROTOS },
	{ "ss_connect", SS_BIT(SS_CONNECT), ALL_PROTOS },
	{ "ss_sendto", SS_BIT(SS_SEND), ALL_PROTOS },
	{ "ss_sendmsg", SS_BIT(SS_SEND), ALL_PROTOS },
	{ "ss_sendmmsg", SS_BIT(SS_SEND), ALL_PROTOS },
	{ "ss_recvfrom", SS_BIT(SS_RECV), ALL_PROTOS },
	{ "ss_recvmsg", SS_BIT(SS_RECV), ALL_PROTOS },
	{ "ss_recvmmsg", SS_BIT(SS_RECV), ALL_PROTOS },
	{ "ss_shutdown", SS_BIT(SS_SHUTDOWN), ALL_PROTOS },
	{ "ss_sock_send", SS_BIT(SS_SOCK_SEND), ALL_PROTOS },
	{ "ss_sock_recv", SS_BIT(SS_SOCK_RECV), ALL_PROTOS },
};

static const struct hook_use socket_hooks[] = {
	{ "so_connect", SO_BIT(SO_CONNECT), ALL_PROTOS },
	{ "so_accept", SO_BIT(SO_ACCEPT), ALL_PROTOS },
	{ "so_accept4", SO_BIT(SO_ACCEPT), ALL_PROTOS },
};

#define SOCKET_PROGRAMS(name) {						\
	.cmd = name,								\
	.hooks = socket_hooks,							\
	.n_hooks = sizeof(socket_hooks) / sizeof(socket_hooks[0]),		\
	.gives_name = so_kind_name,						\
	.elf_bytes = sockstat_bpf__elf_bytes,					\
}

const struct program_set sockstat_programs = {
	.cmd = "sockstat",
	.hooks = call_hooks,
	.n_hooks = sizeof(call_hooks) / sizeof(call_hooks[0]),
	.gives_name = ss_counter_key,
	.elf_bytes = sockstat_bpf__elf_bytes,
};
const struct program_set sofamily_programs = SOCKET_PROGRAMS("sofamily");
const struct program_set soprotocol_programs = SOCKET_PROGRAMS("soprotocol");

static const struct part {
	const struct program_set *programs;
	uint32_t all;
} parts[] = {
	[PART_CALLS] = { &sockstat_programs, SS_ALL_MASK },
	[PART_SOCKETS] = { &sofamily_programs, SO_ALL_MASK },
};

int sockstat_session_start(struct sockstat_session *s, enum sockstat_part part,
			   const struct sock_filters *filters, const char *cmd)
{
	const struct part *p = &parts[part];
	struct bpf_program *prog;
	int err;

	memset(s, 0, sizeof(*s));
	s->skel = sockstat_bpf__open();
	if (!s->skel)
		return open_failed(cmd);
	set_filters(&s->skel->rodata->filter, filters);
	s->skel->rodata->task_btf = has_task_btf();
	/* One object serves three commands: the other part's programs stay out. */
	bpf_object__for_each_program(prog, s->skel->obj)
		bpf_program__set_autoload(prog, false);
	s->missing = select_programs(s->skel->obj, p->programs, p->all, ALL_PROTOS);
	if (s->missing == p->all) {
		p_err("none of the hooks of '%s' exist on this kernel (see 'sockeye features')", cmd);
		err = -EOPNOTSUPP;
	} else {
		err = load_and_attach(s->skel->skeleton, cmd);
	}
	if (err)
		sockstat_session_stop(s);
	return err;
}

void sockstat_session_stop(struct sockstat_session *s)
{
	sockstat_bpf__destroy(s->skel);
	s->skel = NULL;
}

const struct bpf_object_skeleton *sockstat_session_skeleton(const struct sockstat_session *s)
{
	return s->skel->skeleton;
}

int sockstat_read_calls(const struct sockstat_session *s, uint64_t counts[SS_COUNTERS])
{
	return percpu_array_sum(bpf_map__fd(s->skel->maps.ss_calls), SS_COUNTERS, counts);
}

int sockstat_calls_delta(const struct sockstat_session *s, uint64_t last[SS_COUNTERS],
			 uint64_t delta[SS_COUNTERS])
{
	return percpu_array_delta(bpf_map__fd(s->skel->maps.ss_calls), SS_COUNTERS, last, delta);
}

int sockstat_read_sockets(const struct sockstat_session *s, struct counter_snapshot *snap)
{
	return counter_snapshot_read(snap, bpf_map__fd(s->skel->maps.so_counts));
}

uint64_t sockstat_sockets_lost(const struct sockstat_session *s)
{
	uint64_t lost;

	percpu_array_sum(bpf_map__fd(s->skel->maps.so_lost), 1, &lost);
	return lost;
}

uint64_t sockstat_skipped(const struct sockstat_session *s)
{
	return skipped_runs(s->skel->obj);
}
