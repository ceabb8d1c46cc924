/* SPDX-License-Identifier: GPL-2.0-only */
/* The TLS libraries `sockeye http` reads HTTPS plaintext in: found on the
 * system and in the memory maps of running processes, or given by path
 * (--tls-lib) for vendored and static copies; and the uprobes on their
 * calls (bpf/http_tls.bpf.h), attached by path so that every process that
 * maps the file, now or later, is covered. */
#ifndef SOCKEYE_TLS_LIBS_H
#define SOCKEYE_TLS_LIBS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <bpf/libbpf.h>

#define TLS_LIBS_MAX 32

enum tls_kind { TLS_OPENSSL, TLS_GNUTLS };

struct tls_lib {
	char path[PATH_MAX];
	enum tls_kind kind;
	dev_t dev;
	ino_t ino;
};

struct tls_libs {
	size_t n;
	struct tls_lib lib[TLS_LIBS_MAX];
};

/* "OpenSSL" or "GnuTLS". */
const char *tls_kind_name(enum tls_kind kind);
/* Its calls with uprobes, as "SSL_write, SSL_read, ...". */
const char *tls_kind_calls(enum tls_kind kind);

/* Adds the file at path if it is an ELF file with one library's calls
 * (and not there yet). Returns 0, or -1 with why set. */
int tls_libs_add(struct tls_libs *l, const char *path, char *why, size_t len);
/* Adds the system's OpenSSL 3 and GnuTLS and the copies running processes
 * map (from /proc/PID/maps; a process in another mount namespace through
 * /proc/PID/root). */
void tls_libs_find(struct tls_libs *l);

/* --tls-lib PATH (repeatable) for field, a struct tls_libs: the file is
 * checked at once (usage_error() if it is no ELF file with one library's
 * calls). The list is not allocated, so a usage error in a later word,
 * which exits, leaves nothing behind. */
void parse_tls_lib(const char *cmd, const char *arg, void *field);
#define OPTION_TLS_LIB(T, field) \
	{ "tls-lib", 0, "PATH", "also probe this OpenSSL or GnuTLS copy (a vendored library " \
	  "or a program linked statically) for HTTPS; repeatable", OPT_CALL, \
	  OPT_FIELD(T, field), .parse = parse_tls_lib }


/* The links of the uprobes of a session. */
struct tls_probes {
	size_t n;
	struct bpf_link **links;
};

/* Attaches the programs of obj to each library's calls: tls_send_e and
 * tls_recv_e at entry, tls_x and tls_ex_x at return. A library that
 * fails is left out with a warning. Returns the libraries attached. */
size_t tls_attach(struct bpf_object *obj, const struct tls_libs *l, struct tls_probes *p);
void tls_detach(struct tls_probes *p);

#endif
