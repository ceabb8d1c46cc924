// SPDX-License-Identifier: GPL-2.0-only
/* One trivial program per hook type, for `sockeye features`: each is
 * loaded and attached alone to learn what this kernel allows. They do
 * nothing and allow everything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp/sock/inet_sock_set_state")
int probe_tp(void *ctx)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(probe_tp_btf)
{
	return 0;
}

SEC("raw_tp/inet_sock_set_state")
int probe_raw_tp(void *ctx)
{
	return 0;
}

SEC("fentry/tcp_connect")
int BPF_PROG(probe_fentry)
{
	return 0;
}

SEC("kprobe/tcp_connect")
int probe_kprobe(void *ctx)
{
	return 0;
}

/* Attached by user space to a TLS library's call (sockeye features). */
SEC("uprobe")
int probe_uprobe(void *ctx)
{
	return 0;
}

SEC("cgroup/sock_create")
int probe_cgroup_sock(struct bpf_sock *ctx)
{
	return 1;
}

SEC("cgroup/connect4")
int probe_cgroup_sock_addr(struct bpf_sock_addr *ctx)
{
	return 1;
}

SEC("cgroup_skb/egress")
int probe_cgroup_skb(struct __sk_buff *skb)
{
	return 1;
}

SEC("sockops")
int probe_sockops(struct bpf_sock_ops *ctx)
{
	return 1;
}

SEC("iter/tcp")
int probe_iter_tcp(struct bpf_iter__tcp *ctx)
{
	return 0;
}

SEC("iter/udp")
int probe_iter_udp(struct bpf_iter__udp *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
