// SPDX-License-Identifier: GPL-2.0-only
/* The agent's HTTP endpoint; see endpoint.h. One libmicrohttpd thread polls
 * every connection with epoll, so a client that sends half a request holds
 * only its own connection, until the timeout closes it. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include "sockeye.h"
#include "endpoint.h"
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

struct endpoint {
	struct MHD_Daemon *daemons[ENDPOINT_MAX_LISTEN];
	size_t n;
	pthread_mutex_t lock;
	struct MHD_Response *metrics;	/* the last published; referenced */
	struct MHD_Response *healthz, *not_found, *not_allowed;
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

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct endpoint *s = cls;

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
}

static bool make_responses(struct endpoint *s)
{
	s->metrics = text_response("", PROM_CONTENT_TYPE);
	s->healthz = text_response("ok\n", "text/plain; charset=utf-8");
	s->not_found = text_response("not found: sockeye serves /metrics and /healthz\n",
				     "text/plain; charset=utf-8");
	s->not_allowed = text_response("method not allowed: use GET\n", "text/plain; charset=utf-8");
	if (s->not_allowed)
		MHD_add_response_header(s->not_allowed, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	return s->metrics && s->healthz && s->not_found && s->not_allowed;
}

static struct MHD_Daemon *start_daemon(struct endpoint *s, int fd)
{
	return MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD, 0, NULL, NULL, handle, s,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, name_thread, NULL,
				MHD_OPTION_END);
}

struct endpoint *endpoint_start(const int *fds, size_t n)
{
	struct endpoint *s = calloc(1, sizeof(*s));
	size_t i;

	if (!s || !make_responses(s)) {
		p_err("out of memory");
		i = 0;
		goto fail;
	}
	pthread_mutex_init(&s->lock, NULL);
	/* A daemon owns its socket once started: the others are closed here. */
	for (i = 0; i < n && i < ENDPOINT_MAX_LISTEN; i++, s->n++)
		if (!(s->daemons[i] = start_daemon(s, fds[i])))
			break;
	if (s->n == n)
		return s;
	p_err("cannot start the HTTP server (libmicrohttpd %s)", MHD_get_version());
	endpoint_stop(s);
	s = NULL;
fail:
	if (s)
		free_responses(s);
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
	free(s);
}
