// SPDX-License-Identifier: GPL-2.0-only
/* The agent's metrics about itself; see health.h. */
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "health.h"
#include "prom.h"

/* ---- the process, as /proc/self says ---- */

struct proc_stat {
	unsigned long utime, stime, vsize;	/* clock ticks, bytes */
	unsigned long long start;		/* clock ticks after boot */
	long rss;				/* pages */
};

/* Fields 14, 15 and 22 to 24 of /proc/self/stat (proc(5)), counted after
 * the name's closing parenthesis: the name itself may hold spaces and
 * parentheses. */
static bool read_stat(struct proc_stat *st)
{
	char buf[1024], *after_name;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	after_name = strrchr(buf, ')');
	return after_name &&
	       sscanf(after_name + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d "
		      "%*d %*d %*d %*d %llu %lu %ld", &st->utime, &st->stime, &st->start,
		      &st->vsize, &st->rss) == 5;
}

/* The boot time, seconds since the epoch (the btime line of /proc/stat);
 * 0 when unknown. */
static unsigned long long boot_time(void)
{
	unsigned long long btime = 0;
	char line[256];
	FILE *f = fopen("/proc/stat", "re");

	while (f && fgets(line, sizeof(line), f) && sscanf(line, "btime %llu", &btime) != 1)
		;
	if (f)
		fclose(f);
	return btime;
}

/* The entries of /proc/self/fd but the one reading it; -1 when unknown. */
static long open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d);
	closedir(d);
	return n;
}

static void gauge(FILE *out, const char *name, const char *help, double value)
{
	prom_family(out, name, "gauge", help);
	prom_double(out, name, NULL, 0, value);
}

void health_write_process(FILE *out)
{
	double tick = sysconf(_SC_CLK_TCK);
	unsigned long long btime = boot_time();
	struct rlimit nofile;
	struct proc_stat st;
	long fds = open_fds();

	if (read_stat(&st)) {
		prom_family(out, "process_cpu_seconds_total", "counter",
			    "Total user and system CPU time spent in seconds.");
		prom_double(out, "process_cpu_seconds_total", NULL, 0, (st.utime + st.stime) / tick);
		gauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.",
		      (double)st.rss * getpagesize());
		gauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", st.vsize);
		if (btime)
			gauge(out, "process_start_time_seconds",
			      "Start time of the process since unix epoch in seconds.",
			      btime + st.start / tick);
	}
	if (fds >= 0)
		gauge(out, "process_open_fds", "Number of open file descriptors.", fds);
	if (!getrlimit(RLIMIT_NOFILE, &nofile))
		gauge(out, "process_max_fds", "Maximum number of open file descriptors.",
		      nofile.rlim_cur);
}

/* ---- collectors and their programs ---- */

/* kernel.bpf_stats_enabled: whether the kernel counts each program's runs
 * and their time. A process holding the fd of BPF_ENABLE_STATS (bpftool
 * prog profile) turns the counting on too, but the sysctl does not show
 * it: runs counted that way show as counts above 0. */
static bool bpf_stats_enabled(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int on = 0;

	if (f) {
		if (fscanf(f, "%d", &on) != 1)
			on = 0;
		fclose(f);
	}
	return on;
}

static void write_refreshes(FILE *out, const struct collector_health *c, size_t n)
{
	static const char duration[] = "sockeye_collector_refresh_duration_seconds",
			  success[] = "sockeye_collector_refresh_success";

	prom_family(out, duration, "gauge",
		    "How long the collector's last refresh took (reading its maps, writing its "
		    "families), by collector.");
	for (size_t i = 0; i < n; i++)
		prom_double(out, duration, &(struct prom_label){ "collector", c[i].name }, 1,
			    c[i].refresh_seconds);
	prom_family(out, success, "gauge",
		    "1 if the collector's last refresh succeeded, 0 if it failed (its families "
		    "are then left out), by collector.");
	for (size_t i = 0; i < n; i++)
		prom_uint(out, success, &(struct prom_label){ "collector", c[i].name }, 1, c[i].ok);
}

/* The loaded programs of each collector (a program left out for this
 * kernel has no fd), each as attached or not. */
static void write_attached(FILE *out, const struct collector_health *c, size_t n)
{
	static const char name[] = "sockeye_bpf_program_attached";

	prom_family(out, name, "gauge",
		    "1 if the BPF program is loaded and attached, 0 if loaded but not attached, "
		    "by collector and program name.");
	for (size_t i = 0; i < n; i++) {
		const struct bpf_object_skeleton *s = c[i].skel;

		for (int p = 0; p < s->prog_cnt; p++) {
			struct prom_label labels[] = {
				{ "collector", c[i].name }, { "program", s->progs[p].name },
			};

			if (bpf_program__fd(*s->progs[p].prog) >= 0)
				prom_uint(out, name, labels, 2, *s->progs[p].link != NULL);
		}
	}
}

/* The kernel's own counts (struct bpf_prog_info's run_cnt and run_time_ns),
 * which it keeps only while statistics are on: for each program while
 * the sysctl is on, or once the kernel has counted a run of it. */
static void write_runs(FILE *out, const struct collector_health *c, size_t n, bool time)
{
	bool stats = bpf_stats_enabled();

	const char *name = time ? "sockeye_bpf_program_run_seconds_total" :
				  "sockeye_bpf_program_runs_total";

	prom_family(out, name, "counter", time ?
		    "Time the kernel spent running the BPF program while its statistics were on "
		    "(kernel.bpf_stats_enabled), by collector and program name." :
		    "Runs of the BPF program the kernel counted while its statistics were on "
		    "(kernel.bpf_stats_enabled), by collector and program name.");
	for (size_t i = 0; i < n; i++) {
		const struct bpf_object_skeleton *s = c[i].skel;

		for (int p = 0; p < s->prog_cnt; p++) {
			struct prom_label labels[] = {
				{ "collector", c[i].name }, { "program", s->progs[p].name },
			};
			int fd = bpf_program__fd(*s->progs[p].prog);
			struct bpf_prog_info info = {};
			uint32_t len = sizeof(info);

			if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) ||
			    (!stats && !info.run_cnt))
				continue;
			if (time)
				prom_double(out, name, labels, 2, info.run_time_ns / 1e9);
			else
				prom_uint(out, name, labels, 2, info.run_cnt);
		}
	}
}

static void write_comm_budget(FILE *out, const struct collector_health *c, size_t n,
			      size_t max_series)
{
	static const char names[] = "sockeye_comm_names";

	prom_family(out, names, "gauge",
		    "Process names with series of their own now, by collector; the others share "
		    "the series named other.");
	for (size_t i = 0; i < n; i++)
		if (c[i].comm_names >= 0)
			prom_uint(out, names, &(struct prom_label){ "collector", c[i].name }, 1,
				  c[i].comm_names);
	prom_family(out, "sockeye_comm_names_limit", "gauge",
		    "Process names that may have series of their own, per collector (--max-series).");
	prom_uint(out, "sockeye_comm_names_limit", NULL, 0, max_series);
}

void health_write_collectors(FILE *out, const struct collector_health *c, size_t n,
			     size_t max_series)
{
	write_refreshes(out, c, n);
	write_attached(out, c, n);
	write_runs(out, c, n, false);
	write_runs(out, c, n, true);
	write_comm_budget(out, c, n, max_series);
}

void health_write_series(FILE *out, const char *body, size_t len)
{
	uint64_t samples = 1;	/* this one */
	const char *line = body, *end = body + len;

	for (; line < end; line = (const char *)memchr(line, '\n', end - line) + 1)
		samples += *line != '#';
	prom_family(out, "sockeye_series", "gauge",
		    "Samples in this exposition, this one included (compare with the scrape's "
		    "sample_limit).");
	prom_uint(out, "sockeye_series", NULL, 0, samples);
}
