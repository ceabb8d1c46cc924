/* SPDX-License-Identifier: GPL-2.0-only */
/* What this host allows: privileges, BTF, mounts, cgroup v2, which hooks
 * exist (function hooks and uprobes tried for real). Commands ask before
 * loading; `sockeye features` prints it all. Which programs a command then
 * loads is programs.h's, on top of this. */
#ifndef SOCKEYE_PROBE_H
#define SOCKEYE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACEFS_DIR "/sys/kernel/tracing"
#define BPFFS_DIR "/sys/fs/bpf"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

/* Privileges and BTF; prints what to do and returns false if missing. */
bool check_environment(void);
/* Makes sure tracefs is mounted (libbpf finds classic tracepoint ids there),
 * mounting it if needed. */
bool ensure_tracefs(char *why, size_t len);
bool is_mounted(const char *dir, const char *fstype);
/* The cgroup v2 mount point, from /proc/mounts, or NULL. */
const char *cgroup2_root(void);
/* The network namespace this process is in, as the inode number of
 * /proc/self/ns/net (what lsns and `ip netns identify` go by); 0 if
 * unknown. */
uint32_t own_netns(void);
bool has_capabilities(char *missing, size_t len);

/* Whether the hook a BPF section names exists here: "tp_btf/X" and
 * "raw_tp/X" look for the tracepoint in the kernel's BTF, "tp/C/X" in
 * tracefs, "cgroup/..." need cgroup v2; for "fentry/F" and "fexit/F" a
 * program is loaded, for "kprobe/F" and "kretprobe/F" attached (try_probe),
 * once per process. why says what is missing. */
bool hook_exists(const char *section, char *why, size_t len);
/* Loads the program name of bpf/probe.bpf.c alone and attaches it (a
 * kprobe to the kernel function target if not NULL, a kretprobe if
 * retprobe): what a kernel allows is only known by trying (fentry and
 * kprobes are refused under lockdown or without CONFIG_KPROBES). Says why
 * not on failure. */
bool try_probe(const char *name, const char *target, bool retprobe, char *why, size_t len);
bool kernel_has_btf_type(const char *name, bool function);
/* Whether tracepoint programs may call bpf_get_current_task_btf() (Linux
 * 5.11+): the objects that map an fd to its socket then walk the task's
 * fd table with typed loads (task_btf in bpf/sockeye.bpf.h). Tried once. */
bool has_task_btf(void);
/* How many arguments the tp_btf tracepoint has in this kernel (some grew:
 * kfree_skb's rx_sk came in 6.11), or -1 if it is not there. */
int tracepoint_arg_count(const char *tp);
/* Frees the kernel's BTF that the look-ups above keep (megabytes), for a
 * process that stays long after loading its programs. */
void forget_kernel_btf(void);
struct btf;
/* The running kernel's BTF, loaded once; NULL if it cannot be read. */
struct btf *kernel_btf(void);

/* Whether tracing programs may call bpf_get_current_ancestor_cgroup_id
 * (Linux 5.13 on), which the --cgroup filters use; tried once. Without it
 * they read the process's cgroup themselves. */
bool ancestor_cgroup_helper(void);

/* Whether this kernel can attach uprobes (the uprobe event source). */
bool uprobes_available(char *why, size_t len);

/* Kinds of hook, in the order a feature with alternatives prefers them:
 * HOOK_TP is every stable hook (tracepoints, cgroup hooks, iterators);
 * HOOK_FENTRY fentry and fexit; HOOK_KPROBE kprobes and kretprobes. */
enum hook_kind { HOOK_TP, HOOK_FENTRY, HOOK_KPROBE, HOOK_KINDS };
enum hook_kind hook_kind_of(const char *section);

#endif
