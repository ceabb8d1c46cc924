// SPDX-License-Identifier: GPL-2.0-only
/* Finding TLS libraries and attaching `sockeye http`'s uprobes to them
 * (see tls_libs.h; the programs are in bpf/http_tls.bpf.h). A uprobe is
 * set on a file, not on a process: the kernel puts it into every mapping
 * of that file, including those made after it is attached. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "sockeye.h"
#include "tls_libs.h"

/* The calls with uprobes: all take (connection, buffer, length) first. */
static const struct tls_call {
	enum tls_kind kind;
	const char *name;
	const char *entry, *exit;	/* programs in bpf/http_tls.bpf.h */
	bool needed;			/* to take the file for this library */
} tls_calls[] = {
	{ TLS_OPENSSL, "SSL_write", "tls_send_e", "tls_x", true },
	{ TLS_OPENSSL, "SSL_write_ex", "tls_send_e", "tls_ex_x", false },
	{ TLS_OPENSSL, "SSL_read", "tls_recv_e", "tls_x", true },
	{ TLS_OPENSSL, "SSL_read_ex", "tls_recv_e", "tls_ex_x", false },
	{ TLS_GNUTLS, "gnutls_record_send", "tls_send_e", "tls_x", true },
	{ TLS_GNUTLS, "gnutls_record_recv", "tls_recv_e", "tls_x", true },
};
#define N_CALLS (sizeof(tls_calls) / sizeof(tls_calls[0]))

/* The shared objects looked for, by file name. */
static const struct { const char *prefix; enum tls_kind kind; } tls_sonames[] = {
	{ "libssl.so.3", TLS_OPENSSL },
	{ "libgnutls.so.30", TLS_GNUTLS },
};

const char *tls_kind_name(enum tls_kind kind)
{
	return kind == TLS_OPENSSL ? "OpenSSL" : "GnuTLS";
}

const char *tls_kind_calls(enum tls_kind kind)
{
	return kind == TLS_OPENSSL ? "SSL_write, SSL_write_ex, SSL_read, SSL_read_ex"
				   : "gnutls_record_send, gnutls_record_recv";
}

/* Marks in found[] the calls the symbol table scn defines. */
static void defined_calls(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, bool found[N_CALLS])
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	GElf_Sym sym;

	for (size_t i = 0; data && i < n; i++) {
		const char *name;

		if (!gelf_getsym(data, i, &sym) || sym.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		name = elf_strptr(elf, sh->sh_link, sym.st_name);
		for (size_t c = 0; name && c < N_CALLS; c++)
			if (!strcmp(name, tls_calls[c].name))
				found[c] = true;
	}
}

/* The library whose needed calls the ELF file at path defines; -1 with
 * why set if it is no ELF file or defines neither's. */
static int elf_tls_kind(const char *path, char *why, size_t len)
{
	bool found[N_CALLS] = {};
	int fd = open(path, O_RDONLY | O_CLOEXEC), kind = -1;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *elf;

	if (fd < 0) {
		snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		snprintf(why, len, "%s is not an ELF file", path);
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			defined_calls(elf, scn, &sh, found);
	for (int k = TLS_OPENSSL; k <= TLS_GNUTLS && kind < 0; k++) {
		bool all = true;

		for (size_t c = 0; c < N_CALLS; c++)
			if (tls_calls[c].kind == (enum tls_kind)k && tls_calls[c].needed && !found[c])
				all = false;
		if (all)
			kind = k;
	}
	if (kind < 0)
		snprintf(why, len, "%s defines neither OpenSSL's SSL_write and SSL_read nor GnuTLS's "
			 "gnutls_record_send and gnutls_record_recv", path);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return kind;
}

static bool already_in(const struct tls_libs *l, const struct stat *st)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->lib[i].dev == st->st_dev && l->lib[i].ino == st->st_ino)
			return true;
	return false;
}

int tls_libs_add(struct tls_libs *l, const char *path, char *why, size_t len)
{
	struct tls_lib *lib;
	struct stat st;
	int kind;

	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		snprintf(why, len, "%s: %s", path, errno ? strerror(errno) : "not a file");
		return -1;
	}
	if (already_in(l, &st))
		return 0;
	kind = elf_tls_kind(path, why, len);
	if (kind < 0)
		return -1;
	if (l->n == TLS_LIBS_MAX) {
		snprintf(why, len, "%s: more than %d TLS libraries", path, TLS_LIBS_MAX);
		return -1;
	}
	lib = &l->lib[l->n++];
	snprintf(lib->path, sizeof(lib->path), "%s", path);
	lib->kind = kind;
	lib->dev = st.st_dev;
	lib->ino = st.st_ino;
	return 0;
}

static bool is_tls_soname(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(tls_sonames) / sizeof(tls_sonames[0]); i++)
		if (!strcmp(base, tls_sonames[i].prefix))
			return true;
	return false;
}

/* A library a process maps: by its own path when that is the same file
 * here, else through the process's root. */
static void add_mapped(struct tls_libs *l, const char *pid, const char *path)
{
	char in_root[PATH_MAX + 300], why[PATH_MAX + 400];
	struct stat there, here;

	snprintf(in_root, sizeof(in_root), "/proc/%s/root%s", pid, path);
	if (stat(in_root, &there) || already_in(l, &there))
		return;
	if (!stat(path, &here) && here.st_dev == there.st_dev && here.st_ino == there.st_ino)
		tls_libs_add(l, path, why, sizeof(why));
	else
		tls_libs_add(l, in_root, why, sizeof(why));
}

static void find_in_maps(struct tls_libs *l, const char *pid)
{
	char file[300], line[PATH_MAX + 128], path[PATH_MAX];
	FILE *f;

	snprintf(file, sizeof(file), "/proc/%s/maps", pid);
	f = fopen(file, "re");
	if (!f)
		return;	/* gone already */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %*s %*s %*s %*s %4095[^\n]", path) == 1 && path[0] == '/' &&
		    is_tls_soname(path))
			add_mapped(l, pid, path);
	fclose(f);
}

void tls_libs_find(struct tls_libs *l)
{
	static const char *const dirs[] = {
		"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
	};
	char path[PATH_MAX], why[PATH_MAX + 128];
	struct dirent *d;
	DIR *proc;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		for (size_t s = 0; s < sizeof(tls_sonames) / sizeof(tls_sonames[0]); s++) {
			snprintf(path, sizeof(path), "%s/%s", dirs[i], tls_sonames[s].prefix);
			if (!access(path, R_OK))
				tls_libs_add(l, path, why, sizeof(why));
		}
	proc = opendir("/proc");
	while (proc && (d = readdir(proc)))
		if (isdigit((unsigned char)d->d_name[0]))
			find_in_maps(l, d->d_name);
	if (proc)
		closedir(proc);
}

void parse_tls_lib(const char *cmd, const char *arg, void *field)
{
	char why[PATH_MAX + 128];

	if (tls_libs_add(field, arg, why, sizeof(why)))
		usage_error(cmd, "invalid --tls-lib: %s", why);
}

static struct bpf_link *attach_call(struct bpf_object *obj, const char *prog_name,
				    const char *path, const char *func, bool ret)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, prog_name);
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func, .retprobe = ret);

	return prog ? bpf_program__attach_uprobe_opts(prog, -1, path, 0, &opts) : NULL;
}

/* Both probes on each of the library's calls, or none: an entry without
 * its return would leave its thread taken to be inside a TLS call. */
static bool attach_lib(struct bpf_object *obj, const struct tls_lib *lib, struct tls_probes *p)
{
	size_t first = p->n;

	for (size_t c = 0; c < N_CALLS; c++) {
		const struct tls_call *call = &tls_calls[c];
		struct bpf_link *entry, *exit;
		int err;

		if (call->kind != lib->kind)
			continue;
		exit = attach_call(obj, call->exit, lib->path, call->name, true);
		entry = exit ? attach_call(obj, call->entry, lib->path, call->name, false) : NULL;
		err = -errno;
		if (exit && entry) {
			p->links[p->n++] = exit;
			p->links[p->n++] = entry;
			continue;
		}
		bpf_link__destroy(exit);
		if (!call->needed)	/* an older copy without the _ex calls */
			continue;
		p_warn("HTTPS through %s is not seen: cannot attach a uprobe to %s: %s",
		       lib->path, call->name, strerror(-err));
		while (p->n > first)
			bpf_link__destroy(p->links[--p->n]);
		return false;
	}
	return true;
}

size_t tls_attach(struct bpf_object *obj, const struct tls_libs *l, struct tls_probes *p)
{
	size_t attached = 0;

	p->n = 0;
	p->links = calloc(l->n * N_CALLS * 2, sizeof(*p->links));
	if (!p->links)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		attached += attach_lib(obj, &l->lib[i], p);
	return attached;
}

void tls_detach(struct tls_probes *p)
{
	while (p->n)
		bpf_link__destroy(p->links[--p->n]);
	free(p->links);
	p->links = NULL;
}
