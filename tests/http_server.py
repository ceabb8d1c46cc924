# SPDX-License-Identifier: GPL-2.0-only
"""A real HTTP/1.1 server for the tests of `sockeye http`, on Python's
http.server: keep-alive, GET /size/N answers N bytes, POST answers with the
size of the body it read, anything else is a 404 with an 8-byte body. Listens on the address
given (127.0.0.1 or ::1) at a port the kernel picks, and prints the port."""
import http.server
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.split("/")
        if len(parts) >= 3 and parts[1] == "size" and parts[2].isdigit():
            self.answer(200, b"x" * int(parts[2]))
        else:
            self.answer(404, b"not here")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.answer(201, str(len(body)).encode())

    def log_message(self, *args):
        pass


class Server(http.server.HTTPServer):
    address_family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET


server = Server((sys.argv[1], 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
