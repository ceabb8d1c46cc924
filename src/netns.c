// SPDX-License-Identifier: GPL-2.0-only
/* The walk over the host's network namespaces: see netns.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "array.h"
#include "netns.h"

struct walk {
	int (*fn)(void *ctx);
	void *ctx;
	int home;		/* the calling thread's own namespace */
	uint32_t *seen;		/* inode numbers already visited */
	size_t n, cap;
};

static bool seen_before(const struct walk *w, uint32_t netns)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->seen[i] == netns)
			return true;
	return false;
}

/* Marks the namespace of path (a /proc/PID/ns/net or a /run/netns file)
 * visited; false if it was before, or is gone (or no memory is left). */
static bool first_visit(struct walk *w, const char *path)
{
	struct stat st;

	if (stat(path, &st) || seen_before(w, st.st_ino) || !ARRAY_GROW(w->seen, w->n, w->cap))
		return false;
	w->seen[w->n++] = st.st_ino;
	return true;
}

/* Calls fn in the namespace of path unless it was visited; 0 too when it
 * cannot be entered. */
static int visit(struct walk *w, const char *path)
{
	int fd, err;

	if (!first_visit(w, path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	err = setns(fd, CLONE_NEWNET);
	close(fd);
	if (err)
		return 0;
	err = w->fn(w->ctx);
	/* Not back home, every later read would be another namespace's. */
	if (setns(w->home, CLONE_NEWNET))
		return -errno;
	return err;
}

/* Visits the namespace file name_fmt names for each entry of dir (for
 * /proc, only the processes' numeric ones). */
static int visit_dir(struct walk *w, const char *dir, const char *name_fmt, bool pids_only)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return 0;	/* no /run/netns: no named namespace */
	while (!err && (e = readdir(d))) {
		if (e->d_name[0] == '.' || (pids_only && (e->d_name[0] < '1' || e->d_name[0] > '9')))
			continue;
		snprintf(path, sizeof(path), name_fmt, dir, e->d_name);
		err = visit(w, path);
	}
	closedir(d);
	return err;
}

int netns_each(int (*fn)(void *ctx), void *ctx)
{
	struct walk w = { .fn = fn, .ctx = ctx };
	int err;

	w.home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (w.home < 0)
		return -errno;
	/* Its own first, called without entering it: a thread that may not
	 * enter namespaces (seccomp, no CAP_SYS_ADMIN) still sees that one. */
	first_visit(&w, "/proc/thread-self/ns/net");
	err = fn(ctx);
	if (!err)
		err = visit_dir(&w, "/proc", "%s/%s/ns/net", true);
	if (!err)
		err = visit_dir(&w, "/run/netns", "%s/%s", false);
	free(w.seen);
	close(w.home);
	return err;
}
