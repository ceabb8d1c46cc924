/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel-side helpers every sockeye BPF object shares: constants missing
 * from vmlinux.h, reading a socket's tuple and its process, and the shared
 * filters. The owner map (owners.bpf.h) and the ring buffer (records.bpf.h)
 * are apart, so an object that needs neither does not create them. */
#ifndef SOCKEYE_BPF_H
#define SOCKEYE_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "sock.h"

#define AF_INET		2
#define AF_INET6	10
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define TASK_COMM_LEN	16
#define S_IFMT		00170000
#define S_IFSOCK	0140000

/* A field read through p: a plain load where p is typed (a tp_btf, fentry
 * or fexit argument, a cast kernel context), a helper call where it is not
 * (a kprobe's argument, a socket found by helper reads). A load costs a few
 * ns, a helper call tens. typed is a constant at every call of these
 * always-inline functions, so only its branch is compiled: the verifier
 * never sees a load through an untyped pointer. */
#define LOAD(typed, p, field) ((typed) ? (p)->field : BPF_CORE_READ(p, field))

/* Filters, set by user space between open and load (set_filters() in
 * src/options.h); the verifier drops the branches of filters left at zero. */
const volatile struct sock_filters filter = {};

/* A socket's id: its cookie, which bpf_get_socket_cookie() gives tracing
 * programs from Linux 5.12 on. Before, the socket's address, mixed with
 * a key user space draws at each start (socket_id_key() in src/maps.h)
 * so that no kernel address reaches the output: unique while the socket
 * lives, which is as long as any entry keyed by it (they go when the
 * socket is destroyed or closed). */
const volatile __u64 sk_id_key = 0;

static __always_inline bool sk_has_cookie(void)
{
	return bpf_core_type_exists(btf_bpf_get_socket_ptr_cookie);
}

/* The id that stands in for the cookie: needs no helper, so kprobes and
 * syscall tracepoints use it too. */
static __always_inline __u64 sk_address_id(const void *sk)
{
	__u64 addr = 0;

	/* The verifier allows no arithmetic on a pointer: its value is
	 * read back from the stack as a number. */
	bpf_probe_read_kernel(&addr, sizeof(addr), &sk);
	return addr ^ sk_id_key;
}

static __always_inline __u64 sk_cookie(void *sk)
{
	return sk_has_cookie() ? bpf_get_socket_cookie(sk) : sk_address_id(sk);
}

/* The cookie as stored, without the helper, which would make one: 0 for a
 * socket that has none yet (so none of sockeye's entries), or no socket.
 * Before Linux 5.12, the id that stands in for it, which every socket has. */
static __always_inline __u64 stored_cookie_of(const struct sock *sk, bool typed)
{
	if (!sk)
		return 0;
	if (!sk_has_cookie())
		return sk_address_id(sk);
	return LOAD(typed, sk, __sk_common.skc_cookie.counter);
}

static __always_inline __u64 stored_cookie(const struct sock *sk)
{
	return stored_cookie_of(sk, false);
}

/* The current thread's slot in a map of task storage (with create, made
 * from none if there is none). Before Linux 5.11 tracing programs have
 * neither task storage nor bpf_get_current_task_btf(): user space then
 * makes the map an LRU hash keyed by thread id (thread_slots_by_tid() in
 * src/maps.h), whose slots outlive their thread until evicted. */
static __always_inline void *thread_slot(void *map, const void *none, bool create)
{
	__u32 tid;
	void *p;

	if (bpf_core_type_exists(btf_bpf_get_current_task_btf))
		return bpf_task_storage_get(map, bpf_get_current_task_btf(), NULL,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	tid = (__u32)bpf_get_current_pid_tgid();
	p = bpf_map_lookup_elem(map, &tid);
	if (p || !create)
		return p;
	bpf_map_update_elem(map, &tid, none, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, &tid);
}

/* The socket of a cgroup hook's context. Weak: Linux 6.1 lacks it (added
 * in 6.2); the programs that call it are then not loaded (KFUNC_TO_KERN in
 * src/programs.h) and the object still loads. */
extern void *bpf_cast_to_kern_ctx(void *ctx) __ksym __weak;

static __always_inline bool is_inet(__u16 family)
{
	return family == AF_INET || family == AF_INET6;
}

/* The part of the tuple in struct sock_common: all a request socket (a
 * handshake waiting in a listener, no inet_sock) has. */
static __always_inline void read_common_tuple_of(const struct sock_common *skc,
						 struct sock_tuple *t, bool typed)
{
	__u32 *saddr = (__u32 *)t->saddr, *daddr = (__u32 *)t->daddr;

	t->family = LOAD(typed, skc, skc_family);
	t->state = LOAD(typed, skc, skc_state);
	t->sport = LOAD(typed, skc, skc_num);
	t->dport = bpf_ntohs(LOAD(typed, skc, skc_dport));
	if (t->family == AF_INET) {
		saddr[0] = LOAD(typed, skc, skc_rcv_saddr);
		daddr[0] = LOAD(typed, skc, skc_daddr);
	} else if (typed) {
		for (int i = 0; i < 4; i++) {
			saddr[i] = skc->skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			daddr[i] = skc->skc_v6_daddr.in6_u.u6_addr32[i];
		}
	} else {	/* a helper call each, not one per word */
		bpf_core_read(t->saddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(t->daddr, 16, &skc->skc_v6_daddr);
	}
}

static __always_inline void read_common_tuple(const struct sock_common *skc, struct sock_tuple *t)
{
	read_common_tuple_of(skc, t, false);
}

/* The local port when skc_num (the port as a number) is zero: a failed
 * connect clears skc_num as it releases its port, while bind() sets
 * inet_sport last (after the post_bind hooks). When both are set they hold
 * the same port, so this is read only when it is needed. inet_sport lies
 * past struct sock, where no typed load reaches: a helper reads it. */
static __always_inline __u16 inet_sport(const struct sock *sk)
{
	return bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

static __always_inline void read_tuple_of(const struct sock *sk, struct sock_tuple *t, bool typed)
{
	read_common_tuple_of(&sk->__sk_common, t, typed);
	t->protocol = LOAD(typed, sk, sk_protocol);
	if (!t->sport)
		t->sport = inet_sport(sk);
}

/* The tuple of a socket reached through an untyped pointer. */
static __always_inline void read_tuple(const struct sock *sk, struct sock_tuple *t)
{
	read_tuple_of(sk, t, false);
}

/* The same, through a typed one: all plain loads but inet_sport's. */
static __always_inline void read_tuple_typed(const struct sock *sk, struct sock_tuple *t)
{
	read_tuple_of(sk, t, true);
}

/* Set by user space before load where tracepoint programs may call
 * bpf_get_current_task_btf() (Linux 5.11+, has_task_btf() in src/probe.h):
 * sock_of_fd() then loads the task's fields directly instead of one helper
 * call each. Left false, the verifier drops that branch, helper call and
 * all, so the object still loads where the helper is missing. */
const volatile bool task_btf = false;

/* The fd table of the current task, and its size. */
static __always_inline struct file **current_fds(unsigned int *max_fds)
{
	struct fdtable *fdt;

	if (task_btf) {
		fdt = bpf_get_current_task_btf()->files->fdt;
		*max_fds = fdt->max_fds;
		return fdt->fd;
	}
	fdt = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), files, fdt);
	*max_fds = BPF_CORE_READ(fdt, max_fds);
	return BPF_CORE_READ(fdt, fd);
}

/* private_data is a struct socket only in a socket's file. */
static __always_inline struct socket *file_socket(struct file *file)
{
	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	return BPF_CORE_READ(file, private_data);
}

/* For syscall tracepoints: the socket behind a file descriptor of the
 * current task, or NULL if the fd is not open or not a socket. */
static __always_inline struct sock *sock_of_fd(long fd)
{
	unsigned int max_fds;
	struct file **fds = current_fds(&max_fds);
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= max_fds)
		return NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	sock = file_socket(file);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* Adds one to a slot of a per-CPU array: each CPU has its own copy and
 * BPF programs do not migrate while they run, so no atomics are needed. */
static __always_inline void count_percpu(void *map, __u32 slot)
{
	__u64 *count = bpf_map_lookup_elem(map, &slot);

	if (count)
		(*count)++;
}

#define EEXIST 17

/* Adds one to key's count in a per-CPU hash (this CPU's copy: no atomic,
 * no cache line shared with the other CPUs), adding the key at its first
 * count. Returns 0, or the update's error when the map is full. */
static __always_inline long count_key_percpu(void *map, const void *key)
{
	__u64 one = 1, *count = bpf_map_lookup_elem(map, key);
	long err;

	if (count) {
		(*count)++;
		return 0;
	}
	err = bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
	if (err != -EEXIST)
		return err;
	/* Another CPU added the key between the look-up and here: this
	 * CPU's copy is there, at zero. */
	count = bpf_map_lookup_elem(map, key);
	if (count)
		(*count)++;
	return 0;
}

/* The log2 histogram slot of value among n (as src/histogram.h counts
 * them): 0 for 0 and 1, the last slot for anything larger than it holds. */
static __always_inline __u32 log2_slot(__u64 value, __u32 n)
{
	__u32 slot = 0;

	for (__u32 i = 0; i < n - 1 && value > 1; i++) {
		value >>= 1;
		slot++;
	}
	return slot;
}

/* The process by its thread group leader's name, as ps shows it, not the
 * calling thread's ("http-nio-8080-e"): one name per process in every
 * command, as top has it. */
static __always_inline void current_owner(struct sock_owner *o)
{
	__u64 id = bpf_get_current_pid_tgid();
	const char *comm;
	bool ended = false;

	o->pid = id >> 32;
	o->tid = (__u32)id;
	if (!task_btf) {
		BPF_CORE_READ_STR_INTO(&o->comm, (struct task_struct *)bpf_get_current_task(),
				       group_leader, comm);
		return;
	}
	/* Loads, not two helper calls; up to the NUL and zeros after it, as
	 * the string read gives (a name once longer may have left bytes
	 * past the NUL in the task). */
	comm = bpf_get_current_task_btf()->group_leader->comm;
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		char c = ended ? 0 : comm[i];

		ended = !c;
		o->comm[i] = c;
	}
}

static __always_inline bool comm_matches(const char *comm)
{
	for (int i = 0; i < TASK_COMM_LEN; i++) {
		if (comm[i] != filter.comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

static __always_inline bool owner_passes(const struct sock_owner *o)
{
	if (filter.pid && o->pid != filter.pid)
		return false;
	if (filter.comm_set && !comm_matches(o->comm))
		return false;
	return true;
}

/* struct cgroup before Linux 6.0 turned ancestor_ids[] into ancestors[]. */
struct cgroup___ids {
	int level;
	__u64 ancestor_ids[];
} __attribute__((preserve_access_index));

/* The id of the current process's cgroup v2 ancestor at level, or 0: the
 * helper's answer, or where tracing programs lack the helper, the same id
 * read from the task's cgroup, which lists its ancestors' ids by level. */
static __always_inline __u64 current_ancestor_cgroup_id(__u32 level)
{
	struct task_struct *task;
	struct cgroup___ids *cg;
	__u64 id = 0;

	if (!filter.cgroup_from_task)
		return bpf_get_current_ancestor_cgroup_id(level);
	task = (struct task_struct *)bpf_get_current_task();
	cg = (struct cgroup___ids *)BPF_CORE_READ(task, cgroups, dfl_cgrp);
	if (!bpf_core_field_exists(cg->ancestor_ids) || BPF_CORE_READ(cg, level) < (int)level)
		return 0;
	bpf_probe_read_kernel(&id, sizeof(id), (const char *)cg +
			      bpf_core_field_offset(cg->ancestor_ids) + level * sizeof(id));
	return id;
}

/* Whether the current process is in the filter's cgroup or below it: its
 * ancestor at the filter cgroup's depth is that cgroup exactly then. */
static __always_inline bool current_cgroup_passes(void)
{
	return !filter.cgroup_id ||
	       current_ancestor_cgroup_id(filter.cgroup_level) == filter.cgroup_id;
}

/* Whether the current process, which current_owner() put in o, passes
 * the pid, comm and cgroup filters. */
static __always_inline bool current_owner_passes(const struct sock_owner *o)
{
	return current_cgroup_passes() && owner_passes(o);
}

/* The same, for programs that need no owner: reads nothing when no filter
 * is set, since they run for every system call of their kind on the host. */
static __always_inline bool current_passes(void)
{
	struct sock_owner o = {};

	if (!filter.pid && !filter.comm_set && !filter.cgroup_id)
		return true;
	current_owner(&o);
	return current_owner_passes(&o);
}

static __always_inline bool tuple_passes(const struct sock_tuple *t)
{
	if (filter.family && t->family != filter.family)
		return false;
	if (filter.port && t->sport != filter.port && t->dport != filter.port)
		return false;
	return true;
}

/* Two programs, twin_A and twin_B, that call forget(sk) when a TCP socket
 * is destroyed, for the clean-up that must not be missed: the kernel skips
 * a program that is already running on the CPU (an interrupt inside it
 * destroys another socket), and the twin that is not running then does it;
 * for a socket the first twin forgot, the second finds nothing to do. User
 * space leaves twin_* out of the lost counts (skipped_runs, src/maps.c): a
 * pair misses only an interrupt inside an interrupt inside it. Needs
 * <bpf/bpf_tracing.h>. */
#define FORGET_ON_DESTROY(A, B, forget)					\
	SEC("tp_btf/tcp_destroy_sock")					\
	int BPF_PROG(twin_##A, struct sock *sk)				\
	{								\
		forget(sk);						\
		return 0;						\
	}								\
	SEC("tp_btf/tcp_destroy_sock")					\
	int BPF_PROG(twin_##B, struct sock *sk)				\
	{								\
		forget(sk);						\
		return 0;						\
	}

/* Programs NAME4 and NAME on accept4() and accept() returning, each
 * calling fn(fd) with the new socket's fd (or the negative error) in the
 * accepting process's own context. */
#define ON_ACCEPT_EXIT(NAME, fn)					\
	SEC("tp/syscalls/sys_exit_accept4")				\
	int NAME##4(struct trace_event_raw_sys_exit *ctx)		\
	{								\
		fn(ctx->ret);						\
		return 0;						\
	}								\
	SEC("tp/syscalls/sys_exit_accept")				\
	int NAME(struct trace_event_raw_sys_exit *ctx)			\
	{								\
		fn(ctx->ret);						\
		return 0;						\
	}

#endif
