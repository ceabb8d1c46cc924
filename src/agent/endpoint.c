// SPDX-License-Identifier: GPL-2.0-only
/* The agent's HTTP endpoint; see endpoint.h. One libmicrohttpd thread per
 * listening socket polls its connections with epoll, so a client that
 * sends half a request holds only its own connection, until the timeout
 * closes it. With a web configuration: TLS by libmicrohttpd's GnuTLS,
 * client certificates checked against its CA, and basic authentication
 * against bcrypt hashes (libxcrypt's crypt_rn). */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <netinet/in.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include "sockeye.h"
#include "endpoint.h"
#include "web_config.h"
#include "prom.h"

/* Enough for 200 scrapes at once and a few slow clients; more wait in the
 * listen backlog. */
#define MAX_CONNECTIONS 512
#define LISTEN_BACKLOG 512
/* Seconds a connection may stay idle (a slow or stalled client). */
#define CONNECTION_TIMEOUT 5
/* Bytes of request (line and headers) a connection may hold: a scrape
 * needs a few hundred; more is answered 431 or 414. */
#define CONNECTION_MEMORY 8192
/* Every thread of the agent's, as the process is named. */
#define THREAD_NAME "sockeye"

/* The realm a 401 names. */
#define REALM "sockeye"

struct endpoint {
	struct MHD_Daemon *daemons[ENDPOINT_MAX_LISTEN];
	size_t n;
	const struct web_config *web;
	/* By user: the SHA-256 of the user and password last verified, so that
	 * bcrypt, made to be slow, runs once and not at every scrape. */
	struct verified {
		unsigned char digest[32];
		bool set;
	} *verified;
	pthread_mutex_t lock;		/* metrics and verified */
	struct MHD_Response *metrics;	/* the last published; referenced */
	struct MHD_Response *healthz, *not_found, *not_allowed, *unauthorized, *forbidden;
};

int endpoint_listen(const struct sockaddr *addr, socklen_t len, bool dual_stack)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){ 1 }, sizeof(int));
	/* [::]:PORT means IPv6 only, as it reads; :PORT means both. */
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ !dual_stack }, sizeof(int));
	if (bind(fd, addr, len) || listen(fd, LISTEN_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static struct MHD_Response *text_response(const char *text, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
								 MHD_RESPMEM_PERSISTENT);

	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return r;
}

static enum MHD_Result queue_metrics(struct endpoint *s, struct MHD_Connection *c)
{
	enum MHD_Result ret;

	/* The lock keeps the response referenced until MHD holds its own. */
	pthread_mutex_lock(&s->lock);
	ret = MHD_queue_response(c, MHD_HTTP_OK, s->metrics);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* Compares all n bytes whatever differs first: the time taken says
 * nothing of where. */
static bool same_bytes(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

/* bcrypt, on a buffer of this thread's (struct crypt_data is 32 KiB). */
static bool bcrypt_matches(const char *password, const char *hash)
{
	static __thread struct crypt_data data;
	const char *out = crypt_rn(password, hash, &data, sizeof(data));

	return out && strlen(out) == strlen(hash) && same_bytes(out, hash, strlen(hash));
}

static bool password_ok(struct endpoint *s, const char *user, const char *password)
{
	const struct web_config *web = s->web;
	unsigned char digest[32];
	size_t i, ulen = strlen(user) + 1, plen = strlen(password);
	char *both = malloc(ulen + plen);
	bool ok;

	for (i = 0; i < web->n_users && strcmp(web->users[i].name, user); i++)
		;
	if (i == web->n_users) {
		/* An unknown user takes as long as a wrong password. */
		bcrypt_matches(password, web->users[0].hash);
		free(both);
		return false;
	}
	if (!both)
		return false;
	memcpy(both, user, ulen);
	memcpy(both + ulen, password, plen);
	ok = !gnutls_hash_fast(GNUTLS_DIG_SHA256, both, ulen + plen, digest);
	free(both);
	if (!ok)
		return false;
	pthread_mutex_lock(&s->lock);
	ok = s->verified[i].set && same_bytes(s->verified[i].digest, digest, sizeof(digest));
	pthread_mutex_unlock(&s->lock);
	if (ok || !bcrypt_matches(password, web->users[i].hash))
		return ok;
	pthread_mutex_lock(&s->lock);
	memcpy(s->verified[i].digest, digest, sizeof(digest));
	s->verified[i].set = true;
	pthread_mutex_unlock(&s->lock);
	return true;
}

static bool authenticated(struct endpoint *s, struct MHD_Connection *c)
{
	char *password = NULL, *user;
	bool ok;

	if (!s->web->n_users)
		return true;
	user = MHD_basic_auth_get_username_password(c, &password);
	ok = user && password && password_ok(s, user, password);
	MHD_free(user);
	MHD_free(password);
	return ok;
}

/* With a client CA: a certificate the client gave must verify against it,
 * and one must be given where it is required. */
static bool client_verified(const struct endpoint *s, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info;
	unsigned int listed = 0, status = 1;

	if (s->web->client_auth == CLIENT_CERT_NONE)
		return true;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!info || !gnutls_certificate_get_peers(info->tls_session, &listed) || !listed)
		return s->web->client_auth == CLIENT_CERT_IF_GIVEN;
	return !gnutls_certificate_verify_peers2(info->tls_session, &status) && !status;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct endpoint *s = cls;

	if (!client_verified(s, c))
		return MHD_queue_response(c, MHD_HTTP_FORBIDDEN, s->forbidden);
	if (!authenticated(s, c))
		return MHD_queue_basic_auth_fail_response(c, REALM, s->unauthorized);

	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, s->not_allowed);
	if (!strcmp(url, "/metrics"))
		return queue_metrics(s, c);
	if (!strcmp(url, "/healthz"))
		return MHD_queue_response(c, MHD_HTTP_OK, s->healthz);
	return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, s->not_found);
}

/* libmicrohttpd names its thread "MHD-single", and the agent counts its
 * own bytes like any process's: the thread takes the agent's name as it
 * meets its first connection, before it reads or writes a byte. */
static void name_thread(void *cls, struct MHD_Connection *c, void **socket_context,
			enum MHD_ConnectionNotificationCode code)
{
	static __thread bool named;

	if (!named)
		named = !prctl(PR_SET_NAME, THREAD_NAME);
}

static void free_responses(struct endpoint *s)
{
	MHD_destroy_response(s->metrics);
	MHD_destroy_response(s->healthz);
	MHD_destroy_response(s->not_found);
	MHD_destroy_response(s->not_allowed);
	MHD_destroy_response(s->unauthorized);
	MHD_destroy_response(s->forbidden);
}

static bool make_responses(struct endpoint *s)
{
	s->metrics = text_response("", PROM_CONTENT_TYPE);
	s->healthz = text_response("ok\n", "text/plain; charset=utf-8");
	s->not_found = text_response("not found: sockeye serves /metrics and /healthz\n",
				     "text/plain; charset=utf-8");
	s->not_allowed = text_response("method not allowed: use GET\n", "text/plain; charset=utf-8");
	s->unauthorized = text_response("unauthorized\n", "text/plain; charset=utf-8");
	s->forbidden = text_response("forbidden: no client certificate that verifies\n",
				     "text/plain; charset=utf-8");
	if (s->not_allowed)
		MHD_add_response_header(s->not_allowed, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return s->metrics && s->healthz && s->not_found && s->not_allowed && s->unauthorized &&
	       s->forbidden;
}

static struct MHD_Daemon *start_daemon(struct endpoint *s, int fd)
{
	const struct web_config *web = s->web;
	struct MHD_OptionItem tls[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, web->cert_pem },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, web->key_pem },
		/* Asks for a client certificate, verified in client_verified(). */
		{ web->ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, web->ca_pem },
		{ MHD_OPTION_END, 0, NULL },
	};

	return MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | (web->cert_pem ? MHD_USE_TLS : 0),
				0, NULL, NULL, handle, s,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, name_thread, NULL,
				MHD_OPTION_ARRAY, web->cert_pem ? tls : tls + 3,
				MHD_OPTION_END);
}

struct endpoint *endpoint_start(const int *fds, size_t n, const struct web_config *web)
{
	struct endpoint *s = calloc(1, sizeof(*s));
	size_t i = 0;

	if (!s || !make_responses(s) ||
	    !(s->verified = calloc(web->n_users ? web->n_users : 1, sizeof(*s->verified)))) {
		p_err("out of memory");
		goto fail;
	}
	s->web = web;
	pthread_mutex_init(&s->lock, NULL);
	/* A daemon owns its socket once started: the others are closed here. */
	for (; i < n && i < ENDPOINT_MAX_LISTEN; i++, s->n++)
		if (!(s->daemons[i] = start_daemon(s, fds[i])))
			break;
	if (s->n == n)
		return s;
	p_err("cannot start the HTTP server (libmicrohttpd %s)", MHD_get_version());
	endpoint_stop(s);
	s = NULL;
fail:
	if (s) {
		free_responses(s);
		free(s->verified);
	}
	free(s);
	for (; i < n; i++)
		close(fds[i]);
	return NULL;
}

int endpoint_publish(struct endpoint *s, char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE),
			    *old;

	if (!r) {
		free(body);
		return -ENOMEM;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	pthread_mutex_lock(&s->lock);
	old = s->metrics;
	s->metrics = r;
	pthread_mutex_unlock(&s->lock);
	/* Only drops our reference: a response being sent stays until done. */
	MHD_destroy_response(old);
	return 0;
}

void endpoint_stop(struct endpoint *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		MHD_stop_daemon(s->daemons[i]);	/* closes the listening socket too */
	free_responses(s);
	pthread_mutex_destroy(&s->lock);
	free(s->verified);
	free(s);
}
