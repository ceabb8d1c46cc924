# SPDX-License-Identifier: GPL-2.0-only
"""An HTTPS client of the tests of `sockeye http` on Python's ssl module
(OpenSSL): over one keep-alive connection to 127.0.0.1:PORT, GET /size/1,
GET /size/22, GET /missing and a POST /post with a 10-byte body; prints
each status. The server's certificate is the test's own: not verified."""
import http.client
import ssl
import sys

conn = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]),
                                   context=ssl._create_unverified_context())
for method, path, body in (("GET", "/size/1", None), ("GET", "/size/22", None),
                           ("GET", "/missing", None), ("POST", "/post", b"0123456789")):
    conn.request(method, path, body=body)
    answer = conn.getresponse()
    answer.read()
    print(answer.status, flush=True)
conn.close()
