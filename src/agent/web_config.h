/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's --web-config FILE, in the format of the Prometheus
 * exporter-toolkit (what node_exporter's --web.config.file reads), so
 * that one file serves every exporter of a host:
 *
 *   tls_server_config:
 *     cert_file: server.crt          # PEM; relative to the file's directory
 *     key_file: server.key
 *     client_ca_file: ca.crt         # optional, with client_auth_type
 *     client_auth_type: RequireAndVerifyClientCert
 *   basic_auth_users:
 *     prometheus: $2y$10$...         # bcrypt, as htpasswd -B writes it
 *
 * Read with libyaml; the files it names are read at once, before the
 * agent gives up its privileges. */
#ifndef SOCKEYE_WEB_CONFIG_H
#define SOCKEYE_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum client_auth {
	CLIENT_CERT_NONE,		/* NoClientCert: none asked for */
	CLIENT_CERT_IF_GIVEN,		/* VerifyClientCertIfGiven */
	CLIENT_CERT_REQUIRED,		/* RequireAndVerifyClientCert */
};

struct web_user {
	char *name, *hash;	/* the hash: bcrypt, $2a$, $2b$ or $2y$ */
};

struct web_config {
	char *cert_pem, *key_pem, *ca_pem;	/* NULL: plain HTTP; ca_pem: no client CA */
	enum client_auth client_auth;
	struct web_user *users;			/* n_users == 0: no authentication */
	size_t n_users;
};

/* Reads path into *c; on any error says what and where in one line and
 * exits 2 (a bad configuration is a bad option value). */
void web_config_load(const char *cmd, const char *path, struct web_config *c);
void web_config_free(struct web_config *c);

#endif
