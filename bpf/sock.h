/* SPDX-License-Identifier: GPL-2.0-only */
/* Socket identity shared by every record that crosses the kernel/user boundary. */
#ifndef SOCKEYE_SOCK_H
#define SOCKEYE_SOCK_H

/* Addresses are in network byte order, IPv4 in the first 4 bytes of the
 * 16; ports are in host byte order. family is AF_INET (2) or AF_INET6 (10). */
struct sock_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 protocol;	/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 state;	/* TCP state (enum as in <netinet/tcp.h>), 0 if none */
};

/* The process a socket belongs to, as seen in process context. */
struct sock_owner {
	__u32 pid;	/* thread group id, what users call the pid */
	__u32 tid;
	char comm[16];
};

/* Protocol sets, as bits: what a hook serves, what the user asked for. */
#define PROTO_TCP_BIT 1u
#define PROTO_UDP_BIT 2u

/* The shared filters, as user space sets them in every object's read-only
 * data before load; zero means "any". */
struct sock_filters {
	__u32 pid;	/* thread group id */
	__u16 port;	/* local or remote */
	__u16 family;	/* AF_INET, AF_INET6 or 0 for both */
	__u8 comm_set;
	__u8 pad[3];
	char comm[16];
	__u64 cgroup_id;	/* a cgroup v2 (its directory's inode), with what is below it */
	__u32 cgroup_level;	/* its depth below the root, for the ancestor look-up */
	/* 1 where tracing programs lack bpf_get_current_ancestor_cgroup_id
	 * (before Linux 5.13): the ancestor is read from the task instead. */
	__u32 cgroup_from_task;
};

#endif
