// SPDX-License-Identifier: GPL-2.0-only
/* The agent's --web-config file; see web_config.h. The document is loaded
 * whole with libyaml and walked; everything it names is checked here (the
 * key matches the certificate, the CA holds certificates, each hash is a
 * bcrypt one), so a mistake is exit 2 at the start rather than a server
 * that refuses every scrape. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gnutls/gnutls.h>
#include <yaml.h>
#include "sockeye.h"
#include "web_config.h"

/* A certificate chain, a key or a CA bundle: far less than this. */
#define MAX_PEM (1 << 20)
/* $2y$NN$ and 53 characters of salt and hash. */
#define BCRYPT_LEN 60

struct loading {
	const char *cmd, *path;
	yaml_document_t doc;
	bool loaded; /* doc holds the file */
	struct web_config *c;
};

/* Says what is wrong, at which line of the file, and exits 2, leaving
 * nothing allocated behind. */
static void __attribute__((noreturn, format(printf, 3, 4)))
bad(struct loading *l, const yaml_node_t *node, const char *fmt, ...)
{
	char why[512];
	size_t line;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	line = node ? node->start_mark.line + 1 : 0;
	if (l->loaded)
		yaml_document_delete(&l->doc);
	web_config_free(l->c);
	if (line)
		usage_error(l->cmd, "invalid --web-config '%s', line %zu: %s", l->path, line, why);
	usage_error(l->cmd, "invalid --web-config '%s': %s", l->path, why);
}

static const char *scalar(struct loading *l, const yaml_node_t *node, const char *what)
{
	if (node->type != YAML_SCALAR_NODE)
		bad(l, node, "%s must be a string", what);
	return (const char *)node->data.scalar.value;
}

static const yaml_node_t *node_of(struct loading *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

/* A file named in the configuration, relative to the configuration's own
 * directory unless absolute, as exporter-toolkit reads it; NUL-ended. */
static char *read_named(struct loading *l, const yaml_node_t *node, const char *key)
{
	const char *name = scalar(l, node, key), *slash = strrchr(l->path, '/');
	char path[PATH_MAX], *text = malloc(MAX_PEM + 1);
	FILE *f;
	size_t n;

	if (name[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - l->path), l->path, name);
	f = fopen(path, "re");
	if (!f || !text)
		bad(l, node, "%s: cannot read %s: %s", key, path, strerror(text ? errno : ENOMEM));
	n = fread(text, 1, MAX_PEM + 1, f);
	fclose(f);
	if (n > MAX_PEM)
		bad(l, node, "%s: %s is over 1 MiB", key, path);
	text[n] = '\0';
	return text;
}

static enum client_auth client_auth(struct loading *l, const yaml_node_t *node)
{
	static const char *const names[] = {
		[CLIENT_CERT_NONE] = "NoClientCert",
		[CLIENT_CERT_IF_GIVEN] = "VerifyClientCertIfGiven",
		[CLIENT_CERT_REQUIRED] = "RequireAndVerifyClientCert",
	};
	const char *value = scalar(l, node, "client_auth_type");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(value, names[i]))
			return i;
	bad(l, node, "client_auth_type '%s': expected NoClientCert, VerifyClientCertIfGiven or "
	    "RequireAndVerifyClientCert", value);
}

/* What GnuTLS will say when the server starts, said now. */
static void check_credentials(struct loading *l, const yaml_node_t *tls)
{
	gnutls_certificate_credentials_t cred;
	const struct web_config *c = l->c;
	gnutls_datum_t cert = { (unsigned char *)c->cert_pem, strlen(c->cert_pem) };
	gnutls_datum_t key = { (unsigned char *)c->key_pem, strlen(c->key_pem) };
	int err;

	if (gnutls_certificate_allocate_credentials(&cred))
		bad(l, tls, "out of memory");
	err = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
	if (err < 0)
		bad(l, tls, "cert_file and key_file: %s", gnutls_strerror(err));
	if (c->ca_pem) {
		gnutls_datum_t ca = { (unsigned char *)c->ca_pem, strlen(c->ca_pem) };

		err = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
		if (err <= 0)
			bad(l, tls, "client_ca_file: %s", err < 0 ? gnutls_strerror(err) :
			    "no certificate in it");
	}
	gnutls_certificate_free_credentials(cred);
}

static void tls_server_config(struct loading *l, const yaml_node_t *tls)
{
	struct web_config *c = l->c;
	const yaml_node_t *auth_node = NULL;

	if (tls->type != YAML_MAPPING_NODE)
		bad(l, tls, "tls_server_config must be a mapping");
	for (yaml_node_pair_t *p = tls->data.mapping.pairs.start; p < tls->data.mapping.pairs.top; p++) {
		const char *key = scalar(l, node_of(l, p->key), "a key");
		const yaml_node_t *value = node_of(l, p->value);

		if (!strcmp(key, "cert_file"))
			c->cert_pem = read_named(l, value, key);
		else if (!strcmp(key, "key_file"))
			c->key_pem = read_named(l, value, key);
		else if (!strcmp(key, "client_ca_file"))
			c->ca_pem = read_named(l, value, key);
		else if (!strcmp(key, "client_auth_type"))
			c->client_auth = client_auth(l, auth_node = value);
		else
			bad(l, value, "tls_server_config: '%s' is not supported (cert_file, key_file, "
			    "client_ca_file and client_auth_type are)", key);
	}
	if (!c->cert_pem || !c->key_pem)
		bad(l, tls, "tls_server_config needs cert_file and key_file");
	if (c->ca_pem && c->client_auth == CLIENT_CERT_NONE)
		bad(l, tls, "client_ca_file without a client_auth_type that verifies");
	if (!c->ca_pem && c->client_auth != CLIENT_CERT_NONE)
		bad(l, auth_node, "client_auth_type %s needs client_ca_file",
		    scalar(l, auth_node, "client_auth_type"));
	check_credentials(l, tls);
}

static bool bcrypt_hash(const char *hash)
{
	return strlen(hash) == BCRYPT_LEN && (!strncmp(hash, "$2a$", 4) ||
	       !strncmp(hash, "$2b$", 4) || !strncmp(hash, "$2y$", 4)) && hash[6] == '$';
}

static void basic_auth_users(struct loading *l, const yaml_node_t *users)
{
	struct web_config *c = l->c;
	size_t n;

	if (users->type != YAML_MAPPING_NODE)
		bad(l, users, "basic_auth_users must be a mapping of user names to bcrypt hashes");
	n = users->data.mapping.pairs.top - users->data.mapping.pairs.start;
	c->users = calloc(n ? n : 1, sizeof(*c->users));
	if (!c->users)
		bad(l, users, "out of memory");
	for (yaml_node_pair_t *p = users->data.mapping.pairs.start; p < users->data.mapping.pairs.top; p++) {
		const char *name = scalar(l, node_of(l, p->key), "a user name");
		const char *hash = scalar(l, node_of(l, p->value), "a password hash");

		for (size_t i = 0; i < c->n_users; i++)
			if (!strcmp(c->users[i].name, name))
				bad(l, node_of(l, p->key), "user '%s' given twice", name);
		if (!*name || strchr(name, ':'))
			bad(l, node_of(l, p->key), "user name '%s': not empty, no ':'", name);
		if (!bcrypt_hash(hash))
			bad(l, node_of(l, p->value), "the hash of user '%s' is not a bcrypt hash "
			    "($2y$..., 60 characters, as 'htpasswd -nB USER' writes it)", name);
		c->users[c->n_users].name = strdup(name);
		c->users[c->n_users++].hash = strdup(hash);
	}
}

static void walk(struct loading *l)
{
	const yaml_node_t *root = yaml_document_get_root_node(&l->doc);

	if (!root)	/* an empty file: plain HTTP, no users, as exporter-toolkit takes it */
		return;
	if (root->type != YAML_MAPPING_NODE)
		bad(l, root, "expected a mapping with tls_server_config and basic_auth_users");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *key = scalar(l, node_of(l, p->key), "a key");
		const yaml_node_t *value = node_of(l, p->value);

		if (!strcmp(key, "tls_server_config"))
			tls_server_config(l, value);
		else if (!strcmp(key, "basic_auth_users"))
			basic_auth_users(l, value);
		else
			bad(l, node_of(l, p->key), "'%s' is not supported (tls_server_config and "
			    "basic_auth_users are)", key);
	}
}

void web_config_load(const char *cmd, const char *path, struct web_config *c)
{
	struct loading l = { .cmd = cmd, .path = path, .c = c };
	yaml_parser_t parser;
	FILE *f = fopen(path, "re");

	memset(c, 0, sizeof(*c));
	if (!f)
		bad(&l, NULL, "%s", strerror(errno));
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		bad(&l, NULL, "out of memory");
	}
	yaml_parser_set_input_file(&parser, f);
	l.loaded = yaml_parser_load(&parser, &l.doc);
	if (!l.loaded) {
		/* A directory, say, fails to read rather than to parse. */
		const char *problem = ferror(f) ? strerror(errno) :
				      parser.problem ? parser.problem : "not YAML";
		size_t line = parser.problem_mark.line + 1;

		yaml_parser_delete(&parser);
		fclose(f);
		usage_error(cmd, "invalid --web-config '%s', line %zu: %s", path, line, problem);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	walk(&l);
	yaml_document_delete(&l.doc);
}

void web_config_free(struct web_config *c)
{
	for (size_t i = 0; i < c->n_users; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	free(c->cert_pem);
	free(c->key_pem);
	free(c->ca_pem);
	memset(c, 0, sizeof(*c));
}
