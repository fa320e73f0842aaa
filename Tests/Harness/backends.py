#!/usr/bin/env python3
"""Loopback HTTP backends for Attaché's traffic tests.

Usage: backends.py NAME [NAME ...] [--address 127.0.0.1] [--tls CERT KEY [--client-ca CA]]
Starts one HTTP server per NAME on ADDRESS with a free port, prints one JSON line {"NAME": port, ...}, and serves
until its standard input closes (so it never outlives the test that started it). Every response is JSON naming
the backend and echoing what it received: method, path, Host, and the request headers.

For the tests of Mapping fields, a backend also:
- answers `GET /__requests__` with how many requests it has received (and their paths), itself not counted, so a
  test can see that Envoy mirrored requests to it;
- when its name starts with `flaky`, answers 503 to its 1st, 3rd, 5th, ... request (a test of retries);
- answers a request that asks to upgrade to websocket with 101 Switching Protocols, then echoes what it receives
  (Envoy passes the upgrade only when the route allows it);
- when its name starts with `tls` and `--tls CERT KEY` is given, speaks TLS and echoes the server name (SNI) the
  client sent; with `--client-ca CA` it also requires a client certificate that chains to CA;
- when its name starts with `auth`, is an external authorization service (Envoy's ext_authz, HTTP): it allows a
  check whose request carries `x-allow: yes` (200, adding `x-user: alice` for the upstream) and denies any other
  (403, with `www-authenticate` for the client), and counts the checks it answered at `/__requests__`.
"""
import ssl
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler_for(name):
    received = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body in separate small writes plus Nagle's algorithm stall each response ~40 ms behind
        # the peer's delayed ACK; the harness sends thousands of requests, so turn Nagle off.
        disable_nagle_algorithm = True

        def reply(self, status, reason, body):
            head = (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            self.wfile.write(head + body)  # one write per response

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if self.path == "/__requests__":
                with lock:
                    body = json.dumps({"count": len(received), "paths": list(received)}).encode()
                self.reply(200, "OK", body)
                return
            with lock:
                received.append(self.path)
                number = len(received)
            if self.headers.get("Upgrade", "").lower() == "websocket":
                self.wfile.write(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
                self.wfile.flush()
                while True:  # echo until the client goes
                    data = self.connection.recv(4096)
                    if not data:
                        break
                    self.connection.sendall(data)
                self.close_connection = True
                return
            if name.startswith("auth"):
                if self.headers.get("x-allow") == "yes":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nx-user: alice\r\nContent-Length: 0\r\n\r\n")
                else:
                    body = json.dumps({"denied_by": name, "path": self.path}).encode()
                    self.wfile.write(
                        b"HTTP/1.1 403 Forbidden\r\nwww-authenticate: Bearer\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                return
            if name.startswith("flaky") and number % 2 == 1:
                self.reply(503, "Service Unavailable", json.dumps({"failed_by": name, "request": number}).encode())
                return
            body = json.dumps({
                "backend": name,
                "sni": getattr(self.connection, "sni", None),
                "method": self.command,
                "path": self.path,
                "host": self.headers.get("Host", ""),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }).encode()
            self.reply(200, "OK", body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = answer

        def log_message(self, *args):
            pass

    return Handler


def main():
    args = sys.argv[1:]
    address = "127.0.0.1"
    if "--address" in args:
        i = args.index("--address")
        address = args[i + 1]
        del args[i:i + 2]
    tls = None
    client_ca = None
    if "--client-ca" in args:
        i = args.index("--client-ca")
        client_ca = args[i + 1]
        del args[i:i + 2]
    if "--tls" in args:
        i = args.index("--tls")
        tls = (args[i + 1], args[i + 2])
        del args[i:i + 3]
    ports = {}
    for name in args:
        server = ThreadingHTTPServer((address, 0), handler_for(name))
        if tls and name.startswith("tls"):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            if client_ca:
                context.verify_mode = ssl.CERT_REQUIRED
                context.load_verify_locations(client_ca)

            def remember_sni(connection, server_name, _context):
                connection.sni = server_name

            context.sni_callback = remember_sni
            server.socket = context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        ports[name] = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps(ports), flush=True)
    sys.stdin.read()  # returns when the parent closes our stdin or dies


if __name__ == "__main__":
    main()
