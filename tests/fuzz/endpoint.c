// SPDX-License-Identifier: GPL-2.0-only
/* The agent's HTTP endpoint as a client meets it: any bytes sent over a
 * real connection to it on 127.0.0.1, read back until it closes. The HTTP
 * parsing is libmicrohttpd's own (fuzzed upstream, and not instrumented
 * here); what is sockeye's is how it answers each method and path, and
 * that /metrics can be replaced while requests are in flight: an input
 * whose first byte is odd publishes its bytes as the new /metrics first. */
#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "fuzz.h"
#include "agent/endpoint.h"
#include "agent/web_config.h"

static struct endpoint *server;
static struct sockaddr_in addr;

/* One server for the whole run, on a port the kernel picks. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct web_config plain;
	socklen_t len = sizeof(addr);
	int fd;

	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = endpoint_listen((struct sockaddr *)&addr, sizeof(addr), false);
	if (fd < 0 || getsockname(fd, (struct sockaddr *)&addr, &len) || !(server = endpoint_start(&fd, 1, &plain)))
		abort();
	return 0;
}

static void publish(const uint8_t *data, size_t size)
{
	char *body = malloc(size ? size : 1);

	if (body) {
		memcpy(body, data, size);
		endpoint_publish(server, body, size);
	}
}

/* Sends all, says there is no more, and reads until the server closes or
 * goes quiet: a keep-alive connection stays open after its answer, and a
 * request cut short waits for the server's timeout (5 s), which bounds
 * slow clients, not fuzzing. An answer comes within a few milliseconds. */
static void exchange(const uint8_t *data, size_t size)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), wait_ms = 50;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];

	if (fd < 0)
		return;
	if (!connect(fd, (struct sockaddr *)&addr, sizeof(addr)) &&
	    send(fd, data, size, MSG_NOSIGNAL) == (ssize_t)size && !shutdown(fd, SHUT_WR))
		for (; poll(&p, 1, wait_ms) > 0 && recv(fd, buf, sizeof(buf), 0) > 0; wait_ms = 10)
			;
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_byte(&data, &size) & 1)
		publish(data, size);
	exchange(data, size);
	return 0;
}
