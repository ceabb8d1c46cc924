// SPDX-License-Identifier: GPL-2.0-only
/* The agent's pins in bpffs; see pins.h for the layout and the lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "sockeye.h"
#include "pins.h"

#define BPF_FS_MAGIC 0xcafe4a11

/* Only the usual place is mounted for the user: a pin directory anywhere
 * else must be on a bpffs they mounted themselves. */
static int ensure_bpffs(const char *dir)
{
	size_t len = strlen(BPFFS_DIR);

	if (strncmp(dir, BPFFS_DIR, len) || (dir[len] && dir[len] != '/') ||
	    is_mounted(BPFFS_DIR, "bpf"))
		return 0;
	if (mount("bpf", BPFFS_DIR, "bpf", 0, "mode=0700")) {
		int err = -errno;

		p_err("bpffs is not mounted and mounting it at %s failed (%s); mount it with "
		      "'mount -t bpf bpf %s'", BPFFS_DIR, strerror(-err), BPFFS_DIR);
		return err;
	}
	p_info("mounted bpffs at %s (the agent pins its maps there)", BPFFS_DIR);
	return 0;
}

static int open_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;
	struct statfs fs;

	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &fs) || fs.f_type != BPF_FS_MAGIC) {
		err = fs.f_type != BPF_FS_MAGIC ? -EXDEV : -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int lock_dir(const char *dir, int fd)
{
	int err;

	if (!flock(fd, LOCK_EX | LOCK_NB))
		return fd;
	err = -errno;
	if (err == -EWOULDBLOCK)
		p_err("another sockeye agent is running with the pin directory %s; stop it, "
		      "or give this one another --pin-dir", dir);
	else
		p_err("cannot lock the pin directory %s: %s", dir, strerror(-err));
	close(fd);
	return err == -EWOULDBLOCK ? -EBUSY : err;
}

int pins_claim(const char *dir)
{
	int fd, err = ensure_bpffs(dir);

	if (err)
		return err;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		p_err("cannot create the pin directory %s: %s", dir, strerror(-err));
		return err;
	}
	fd = open_dir(dir);
	if (fd == -EXDEV)
		p_err("the pin directory %s is not in a bpf filesystem; mount one there with "
		      "'mount -t bpf bpf DIR' or pick a directory under %s", dir, BPFFS_DIR);
	else if (fd < 0)
		p_err("cannot open the pin directory %s: %s", dir, strerror(-fd));
	return fd < 0 ? fd : lock_dir(dir, fd);
}

static int pin_failed(const char *what, const char *path, int err)
{
	p_err("cannot pin the %s %s: %s", what, path, strerror(-err));
	return err;
}

/* A reader runs an iterator through its link; the other links stay
 * unpinned, so that a killed agent's programs leave with it. */
static int pin_iterators(const char *dir, const char *sub, const struct bpf_object_skeleton *skel)
{
	char path[PATH_MAX];
	int err;

	for (int i = 0; i < skel->prog_cnt; i++) {
		struct bpf_link *link = *skel->progs[i].link;

		if (!link || bpf_program__expected_attach_type(*skel->progs[i].prog) !=
			     BPF_TRACE_ITER)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, skel->progs[i].name);
		err = bpf_link__pin(link, path);
		if (err)
			return pin_failed("iterator", path, err);
	}
	return 0;
}

int pins_add(const char *dir, const char *sub, const struct bpf_object_skeleton *skel)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0700) && errno != EEXIST) {
		err = -errno;
		p_err("cannot create %s: %s", path, strerror(-err));
		return err;
	}
	bpf_object__for_each_map(map, *skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, bpf_map__name(map));
		err = bpf_map__pin(map, path);
		if (err)
			return pin_failed("map", path, err);
	}
	return pin_iterators(dir, sub, skel);
}

bool pins_remove(const char *dir, const char *sub)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (!d)
		return false;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(path);
	return true;
}

int open_pin(const char *dir, const char *sub, const char *name)
{
	char path[PATH_MAX];
	int fd = open_dir(dir), err;

	if (fd < 0) {
		p_err("no agent's pins in %s (%s): start 'sockeye agent' first, or give its "
		      "--pin-dir", dir, fd == -EXDEV ? "not a bpf filesystem" : strerror(-fd));
		return fd;
	}
	/* A shared lock is granted only when no agent holds the exclusive one. */
	err = flock(fd, LOCK_SH | LOCK_NB) ? 0 : -ESRCH;
	close(fd);
	if (err) {
		p_err("no agent is running with its pins in %s: start 'sockeye agent' first", dir);
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		err = -errno;
		p_err("cannot open the agent's pin %s: %s (is its '%s' collector on?)", path,
		      strerror(-err), sub);
		return err;
	}
	return fd;
}
