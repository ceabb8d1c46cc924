/* SPDX-License-Identifier: GPL-2.0-only */
/* The hooks of a feature counted at the end of socket send and receive
 * calls: the tracepoints, else the fallbacks of bpf/sockio.bpf.h, as rows of
 * a command's hook_use table. The groups are named "send" and "recv", after
 * a prefix. */
#ifndef SOCKEYE_SOCKIO_H
#define SOCKEYE_SOCKIO_H

#include "programs.h"

#define SOCK_IO_USES_OF(alt, prog, gives, protos)				\
	{ prog "_fx", gives, protos, false, alt },				\
	{ prog "_kp", gives, protos, false, alt },				\
	{ prog "_kr", gives, protos, false, alt }

/* send_tp and recv_tp: the tracepoint programs; prefix: the one given to
 * SOCK_IO_FALLBACKS() as a string; group: what the groups' names start
 * with, so that two users of the same set choose and warn apart. */
#define SOCK_IO_USES(send_tp, recv_tp, prefix, group, send_gives, recv_gives, protos) \
	{ send_tp, send_gives, protos, false, group "send" },			\
	SOCK_IO_USES_OF(group "send", prefix "_s4", send_gives, protos),	\
	SOCK_IO_USES_OF(group "send", prefix "_s6", send_gives, protos),	\
	{ recv_tp, recv_gives, protos, false, group "recv" },			\
	SOCK_IO_USES_OF(group "recv", prefix "_r4", recv_gives, protos),	\
	SOCK_IO_USES_OF(group "recv", prefix "_r6", recv_gives, protos)

#endif
