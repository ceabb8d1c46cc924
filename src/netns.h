/* SPDX-License-Identifier: GPL-2.0-only */
/* Every network namespace of the host, entered one by one: what an
 * iterator bound to the namespace it is created in (iter/tcp) needs to
 * cover them all. */
#ifndef SOCKEYE_NETNS_H
#define SOCKEYE_NETNS_H

/* Calls fn once in each network namespace a process is in or /run/netns
 * names (those lsns and `ip netns list` show), with the calling thread
 * moved into it; the thread is back in its own namespace after each call. A namespace that cannot be entered (its
 * process ended, no privilege) is left out. Stops at fn's first non-zero
 * return and returns it; 0, or -errno when the thread could not go back. */
int netns_each(int (*fn)(void *ctx), void *ctx);

#endif
