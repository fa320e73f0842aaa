#!/usr/bin/env python3
"""Loopback HTTP backends for Attaché's traffic tests.

Usage: backends.py NAME [NAME ...] [--address 127.0.0.1]
Starts one HTTP server per NAME on ADDRESS with a free port, prints one JSON line {"NAME": port, ...}, and serves
until its standard input closes (so it never outlives the test that started it). Every response is JSON naming
the backend and echoing what it received: method, path, Host, and the request headers.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def handler_for(name):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body in separate small writes plus Nagle's algorithm stall each response ~40 ms behind
        # the peer's delayed ACK; the harness sends thousands of requests, so turn Nagle off.
        disable_nagle_algorithm = True

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            body = json.dumps({
                "backend": name,
                "method": self.command,
                "path": self.path,
                "host": self.headers.get("Host", ""),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }).encode()
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            self.wfile.write(head + body)  # one write per response

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = answer

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
    ports = {}
    for name in args:
        server = ThreadingHTTPServer((address, 0), handler_for(name))
        server.daemon_threads = True
        ports[name] = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps(ports), flush=True)
    sys.stdin.read()  # returns when the parent closes our stdin or dies


if __name__ == "__main__":
    main()
