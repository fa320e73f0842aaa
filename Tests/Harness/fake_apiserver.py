#!/usr/bin/env python3
"""A Kubernetes API server for Attaché's tests, on loopback: enough of the real protocol to prove a list/watch
client right, and ways to make it fail.

usage: fake_apiserver.py CERT KEY TOKEN [--absent-group GROUP]...

Serves HTTPS on 127.0.0.1 (a free port) with CERT/KEY, and a plain-HTTP control API on another loopback port.
Prints one JSON line {"api": PORT, "control": PORT} and serves until its standard input closes.

The API: bearer-token authentication (401 without the token), LIST with `limit`/`continue` (a consistent snapshot
per list), `labelSelector` (equality terms) and `fieldSelector` (`type=` for Secrets), WATCH with
`resourceVersion`, `timeoutSeconds`, `allowWatchBookmarks` (a BOOKMARK about every 0.5 s), events streamed as
chunked JSON lines; a watch from a resourceVersion older than the last compaction gets an ERROR event with code
410, as the real server answers. A group in --absent-group answers 404 (its CRDs are not installed) until the
control API adds it.

Control (POST, JSON body):
  /apply   {object} or [objects]         create or update (ADDED/MODIFIED); resourceVersion assigned
  /delete  {apiVersion, kind, namespace, name}
  /fault   {"cut_watches": true}         end every open watch stream abruptly (no terminating chunk)
           {"fail_next": N}              answer the next N API requests with 500
           {"retry_after_next": N}       answer the next N API requests with 429 and Retry-After: 1
           {"slow_seconds": S}           delay every API response by S seconds (0 to stop)
           {"compact": true}             forget history: watches from older resourceVersions get 410
           {"expire_continue": N}        the next N LIST pages asked for with `continue` get 410 Expired
           {"token": "T"}                accept only token T from now on
           {"serve_group": "G"}          start serving a group given as --absent-group
GET /stats: requests served, by verb, and `last_list_end` (when the last LIST answer was sent, Unix time).
"""
import base64
import json
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PLURALS = {
    ("", "Service"): "services", ("", "Endpoints"): "endpoints", ("", "Secret"): "secrets",
    ("discovery.k8s.io", "EndpointSlice"): "endpointslices",
    ("getambassador.io", "Mapping"): "mappings", ("getambassador.io", "Module"): "modules",
    ("getambassador.io", "Host"): "hosts", ("getambassador.io", "Listener"): "listeners",
    ("getambassador.io", "TLSContext"): "tlscontexts", ("getambassador.io", "AuthService"): "authservices",
    ("getambassador.io", "KubernetesEndpointResolver"): "kubernetesendpointresolvers",
    ("getambassador.io", "KubernetesServiceResolver"): "kubernetesserviceresolvers",
    ("argoproj.io", "Rollout"): "rollouts",
}


class State:
    def __init__(self, token, absent_groups):
        self.lock = threading.Condition()
        self.token = token
        self.absent = set(absent_groups)
        self.rv = 100
        self.compacted = 0
        self.objects = {}  # (group, plural) -> {(namespace, name): object}
        self.events = []  # (rv, (group, plural), type, object)
        self.snapshots = {}
        self.fail_next = 0
        self.expire_continue = 0
        self.retry_after_next = 0
        self.slow = 0.0
        self.cut_generation = 0
        self.stats = {"list": 0, "watch": 0, "refused": 0}

    def collection(self, obj):
        group = obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"] else ""
        return group, PLURALS[(group, obj["kind"])]

    def apply(self, obj, deleted=False):
        with self.lock:
            key = self.collection(obj)
            meta = obj.setdefault("metadata", {})
            meta.setdefault("namespace", "default")
            ident = (meta["namespace"], meta["name"])
            store = self.objects.setdefault(key, {})
            self.rv += 1
            meta["resourceVersion"] = str(self.rv)
            if deleted:
                old = store.pop(ident, None)
                if old is None:
                    return
                old = json.loads(json.dumps(old))
                old["metadata"]["resourceVersion"] = str(self.rv)
                self.events.append((self.rv, key, "DELETED", old))
            else:
                kind = "MODIFIED" if ident in store else "ADDED"
                meta.setdefault("uid", f"uid-{meta['namespace']}-{meta['name']}")
                meta["managedFields"] = [{"manager": "kubectl", "operation": "Apply"}]
                store[ident] = obj
                self.events.append((self.rv, key, kind, json.loads(json.dumps(obj))))
            self.lock.notify_all()


def matches(obj, namespace, label_selector, field_selector):
    meta = obj.get("metadata", {})
    if namespace and meta.get("namespace") != namespace:
        return False
    for term in filter(None, (label_selector or "").split(",")):
        name, _, value = term.partition("=")
        if (meta.get("labels") or {}).get(name) != value:
            return False
    for term in filter(None, (field_selector or "").split(",")):
        name, _, value = term.partition("=")
        if name == "type" and obj.get("type") != value:
            return False
    return True


def parse_path(path):
    """(group, version, namespace, plural) of a collection path, or None."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if len(rest) == 3 and rest[0] == "namespaces":
        return group, version, rest[1], rest[2]
    if len(rest) == 1:
        return group, version, None, rest[0]
    return None


def api_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def send_json(self, status, body, extra=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def status(self, code, reason, message):
            self.send_json(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": reason,
                                  "message": message, "code": code})

        def do_GET(self):
            with state.lock:
                slow = state.slow
                token = state.token
            if slow:
                time.sleep(slow)
            if self.headers.get("Authorization") != f"Bearer {token}":
                state.stats["refused"] += 1
                return self.status(401, "Unauthorized", "Unauthorized")
            with state.lock:
                if state.fail_next > 0:
                    state.fail_next -= 1
                    return self.status(500, "InternalError", "injected failure")
                if state.retry_after_next > 0:
                    state.retry_after_next -= 1
                    return self.send_json(429, {"kind": "Status", "code": 429, "message": "too many requests"},
                                          [("Retry-After", "1")])
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            parsed = parse_path(url.path)
            if parsed is None:
                return self.status(404, "NotFound", "the server could not find the requested resource")
            group, version, namespace, plural = parsed
            if group in state.absent or (group, plural) not in {(g, p) for (g, _), p in PLURALS.items()}:
                return self.status(404, "NotFound", "the server could not find the requested resource")
            if query.get("watch") in ("1", "true"):
                return self.watch(group, plural, namespace, query)
            return self.list(group, version, plural, namespace, query)

        def list(self, group, version, plural, namespace, query):
            state.stats["list"] += 1
            limit = int(query.get("limit", "0") or 0)
            token = query.get("continue")
            with state.lock:
                if token and state.expire_continue > 0:
                    state.expire_continue -= 1
                    return self.status(410, "Expired", "the continue token has expired")
                if token:
                    snapshot = state.snapshots.get(token)
                    if snapshot is None:
                        return self.status(410, "Expired", "the continue token has expired")
                    rv, items, offset = snapshot
                else:
                    rv = state.rv
                    items = [json.loads(json.dumps(o)) for _, o in sorted(state.objects.get((group, plural), {}).items())
                             if matches(o, namespace, query.get("labelSelector"), query.get("fieldSelector"))]
                    offset = 0
                page = items[offset:offset + limit] if limit else items[offset:]
                metadata = {"resourceVersion": str(rv)}
                if limit and offset + limit < len(items):
                    next_token = base64.b64encode(f"{rv}:{offset + limit}:{time.time()}".encode()).decode()
                    state.snapshots[next_token] = (rv, items, offset + limit)
                    metadata["continue"] = next_token
            for item in page:  # list items carry no apiVersion/kind
                item.pop("apiVersion", None)
                item.pop("kind", None)
            self.send_json(200, {"kind": "List", "apiVersion": version, "metadata": metadata, "items": page})
            state.stats["last_list_end"] = time.time()

        def chunk(self, body):
            data = json.dumps(body).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def watch(self, group, plural, namespace, query):
            state.stats["watch"] += 1
            since = int(query.get("resourceVersion") or 0)
            timeout = float(query.get("timeoutSeconds", "30"))
            bookmarks = query.get("allowWatchBookmarks") in ("1", "true")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with state.lock:
                cut = state.cut_generation
                too_old = since < state.compacted
            if too_old:
                self.chunk({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                                         "reason": "Expired", "code": 410,
                                                         "message": f"too old resource version: {since}"}})
                self.wfile.write(b"0\r\n\r\n")
                return
            end = time.time() + timeout
            position = since
            last_bookmark = time.time()
            while time.time() < end:
                with state.lock:
                    if state.cut_generation != cut:
                        # Cut: the connection dies without the terminating chunk.
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    pending = [e for e in state.events if e[0] > position and e[1] == (group, plural)
                               and matches(e[3], namespace, query.get("labelSelector"), query.get("fieldSelector"))]
                    latest = state.rv
                    if not pending:
                        state.lock.wait(0.1)
                for rv, _, kind, obj in pending:
                    self.chunk({"type": kind, "object": obj})
                    position = rv
                if bookmarks and time.time() - last_bookmark > 0.5:
                    self.chunk({"type": "BOOKMARK", "object": {"kind": "Bookmark",
                                                                "metadata": {"resourceVersion": str(latest)}}})
                    last_bookmark = time.time()
                    position = max(position, latest)
            self.wfile.write(b"0\r\n\r\n")

        def log_message(self, *args):
            pass

    return Handler


def control_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, body):
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.reply(state.stats)

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path == "/apply":
                for obj in body if isinstance(body, list) else [body]:
                    state.apply(obj)
            elif self.path == "/delete":
                state.apply({"apiVersion": body["apiVersion"], "kind": body["kind"],
                             "metadata": {"namespace": body.get("namespace", "default"), "name": body["name"]}},
                            deleted=True)
            elif self.path == "/fault":
                with state.lock:
                    if body.get("cut_watches"):
                        state.cut_generation += 1
                    state.fail_next += body.get("fail_next", 0)
                    state.retry_after_next += body.get("retry_after_next", 0)
                    state.expire_continue += body.get("expire_continue", 0)
                    if "slow_seconds" in body:
                        state.slow = body["slow_seconds"]
                    if body.get("compact"):
                        state.compacted = state.rv + 1
                        state.events = []
                    if "token" in body:
                        state.token = body["token"]
                    if "serve_group" in body:
                        state.absent.discard(body["serve_group"])
                    state.lock.notify_all()
            self.reply({"ok": True, "resourceVersion": state.rv})

        def log_message(self, *args):
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-watch (every test's end, every stopped reflector) is normal: no traceback."""

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (OSError, ssl.SSLError)):
            super().handle_error(request, client_address)


def main():
    args = sys.argv[1:]
    absent = []
    while "--absent-group" in args:
        i = args.index("--absent-group")
        absent.append(args[i + 1])
        del args[i:i + 2]
    cert, key, token = args[0], args[1], args[2]
    state = State(token, absent)
    api = QuietServer(("127.0.0.1", 0), api_handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    api.socket = context.wrap_socket(api.socket, server_side=True)
    api.daemon_threads = True
    control = QuietServer(("127.0.0.1", 0), control_handler(state))
    control.daemon_threads = True
    for server in (api, control):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"api": api.server_address[1], "control": control.server_address[1]}), flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
