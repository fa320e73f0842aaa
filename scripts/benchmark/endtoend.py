#!/usr/bin/env python3
"""End to end: `attache watch` and a real Envoy on N Mappings, then changes an operator makes, each timed from the
input change to Envoy serving it. Figures only. Used by scripts/bench; alone:

    python3 scripts/benchmark/endtoend.py ATTACHE ENVOY N [N ...] [--xds-encoding protobuf|json]

The N Mappings (+ one in five with a canary twin at weight 20) send to IP-address upstreams, so that Envoy does
not wait on DNS for thousands of clusters (a second start-up, measured alone, gives each a DNS name instead:
`localhost:PORT`, which Envoy's resolver answers from /etc/hosts, so the figure is Envoy's own cost of
thousands of STRICT_DNS clusters, not a DNS server's); loopback backends (Tests/Harness/backends.py) answer the measured
routes. For each change: attache's share (input renamed → the file Envoy reads renamed in the xDS directory: the
binary twin, `rds.pb`, unless the encoding is json), Envoy's share (that file renamed → the first request served that
shows the change), and the time until the change is served. Changes:

- weight step: a canary's weight 0 → 60 (rtds.json only), then 300 requests for the split served;
- header route added: a Mapping with `headers: {x-canary: "1"}` on the measured prefix to the canary's service, as
  Argo Rollouts adds one (rds.json only; served: 15 requests with the header in a row reach the canary, which
  the 60% split alone would do once in 2,000);
- Mapping added: a new prefix (rds.json and cds.json);
- pods changed: an endpoint-routed Service's Endpoints moved to another backend (endpoints/<cluster>.json).
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_input(path, n, ports, weight, header_route=False, added=False, pods="pod1", dns=False):
    parts = []
    add = parts.append
    for i in range(n):
        a, b = 10 + i // 62500, (i // 250) % 250
        # With `dns`, every upstream is a name (localhost on a port of its own: one STRICT_DNS cluster each).
        stable = f"localhost:{10000 + i}" if dns else f"10.{a}.{b}.{i % 250 + 1}:8080"
        canary = f"localhost:{30000 + i}" if dns else f"10.{a + 100}.{b}.{i % 250 + 1}:8080"
        add(f"---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {{name: m{i}, namespace: ns{i % 50}}}\n"
            f"spec: {{prefix: /app{i}/, service: \"{stable}\"}}\n")
        if i % 5 == 1:
            add(f"---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {{name: m{i}-canary, namespace: ns{i % 50}}}\n"
                f"spec: {{prefix: /app{i}/, service: \"{canary}\", weight: 20}}\n")
    add(f"---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {{name: measured}}\n"
        f"spec: {{prefix: /measured/, service: \"127.0.0.1:{ports['stable']}\"}}\n")
    add(f"---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {{name: measured-canary}}\n"
        f"spec: {{prefix: /measured/, service: \"127.0.0.1:{ports['canary']}\", weight: {weight}}}\n")
    if header_route:
        add(f"---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {{name: measured-header}}\n"
            f"spec: {{prefix: /measured/, service: \"127.0.0.1:{ports['canary']}\", headers: {{x-canary: \"1\"}}}}\n")
    if added:
        add(f"---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {{name: added}}\n"
            f"spec: {{prefix: /added/, service: \"127.0.0.1:{ports['added']}\"}}\n")
    add("---\napiVersion: getambassador.io/v2\nkind: KubernetesEndpointResolver\nmetadata: {name: endpoint}\n")
    add("---\napiVersion: v1\nkind: Service\nmetadata: {name: pods, namespace: default}\n"
        "spec: {ports: [{name: http, port: 80, targetPort: 8080}]}\n")
    add("---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: pods}\n"
        "spec: {prefix: /pods/, service: pods, resolver: endpoint}\n")
    add(f"---\napiVersion: v1\nkind: Endpoints\nmetadata: {{name: pods, namespace: default}}\n"
        f"subsets: [{{addresses: [{{ip: 127.0.0.1}}], ports: [{{name: http, port: {ports[pods]}}}]}}]\n")
    temp = path + ".tmp"
    with open(temp, "w") as f:
        f.write("".join(parts))
    os.rename(temp, path)
    return time.time()


class Client:
    def __init__(self, port):
        self.port = port
        self.connection = None

    def get(self, path, headers=None):
        for attempt in range(2):
            try:
                if self.connection is None:
                    self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                self.connection.request("GET", path, headers=headers or {})
                response = self.connection.getresponse()
                body = response.read()
                try:
                    return response.status, json.loads(body).get("backend")
                except ValueError:
                    return response.status, None
            except (OSError, http.client.HTTPException):
                self.connection = None
        return 0, None


def inode(path):
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def admin_stat(port, name):
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", f"/stats?filter=^{name.replace('.', '[.]')}$")
        text = connection.getresponse().read().decode()
        connection.close()
        for line in text.splitlines():
            if line.startswith(name + ":"):
                return line.split(":", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def version_of(path):
    """The version_info of an xDS file, read from its JSON form (`rds.json` for `rds.pb`)."""
    path = path[:-len(".pb")] + ".json" if path.endswith(".pb") else path
    try:
        with open(path) as f:
            return json.load(f).get("version_info")
    except (OSError, ValueError):
        return None


def measure_change(change, watched, stat, admin, served, deadline=30):
    """Applies `change` (returns when it renamed the input), then times `watched` renamed and `served()` true,
    polling only the data plane: at 10,000 clusters one filtered stats request costs Envoy's main thread (the one
    that applies updates) tens of milliseconds, so asking for stats while timing would slow what is timed. Then
    checks, once served, that Envoy's admin stat `stat` shows the file's version."""
    before = inode(watched)
    changed_at = change()
    disk = served_at = None
    while time.time() - changed_at < deadline and (disk is None or served_at is None):
        now = time.time()
        if disk is None and inode(watched) != before:
            disk = now
        if served_at is None and served():
            served_at = time.time()
        time.sleep(0.001)
    if disk is None or served_at is None:
        sys.exit(f"a change was not live within {deadline} s (disk {disk}, served {served_at})")
    version = version_of(watched)
    confirmed = False
    for _ in range(100):
        if admin_stat(admin, stat) == version:
            confirmed = True
            break
        time.sleep(0.05)
    return disk - changed_at, max(0.0, served_at - disk), served_at - changed_at, confirmed


def run(attache, envoy, n, work, encoding, dns=False):
    """The start-up, then (unless `dns`: start-up only, with DNS-named upstreams) the changes."""
    suffix = ".pb" if encoding == "protobuf" else ".json"
    backends = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests", "Harness", "backends.py"),
                                 "stable", "canary", "header", "added", "pod1", "pod2"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ports = json.loads(backends.stdout.readline())
    listen, admin = free_port(), free_port()
    watched_dir = os.path.join(work, "input")
    xds = os.path.join(work, "xds")
    os.makedirs(watched_dir)
    os.makedirs(xds)
    target = os.path.join(watched_dir, "input.yaml")
    state = {"weight": 0, "header_route": False, "added": False, "pods": "pod1"}
    write_input(target, n, ports, dns=dns, **state)
    procs = []
    try:
        started = time.time()
        watch = subprocess.Popen([attache, "watch", watched_dir, "--xds-dir", xds, "--listen-address", "127.0.0.1",
                                  "--listen-port", str(listen), "--admin-port", str(admin), "--xds-encoding", encoding],
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "watch.log"), "w"))
        procs.append(watch)
        while not os.path.exists(os.path.join(xds, "bootstrap.json")):
            if time.time() - started > 120:
                sys.exit("watch wrote no bootstrap within 120 s")
            time.sleep(0.005)
        written = time.time()
        proxy = subprocess.Popen([envoy, "-c", os.path.join(xds, "bootstrap.json"), "--disable-hot-restart",
                                  "--concurrency", "2", "--log-level", "error"],
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "envoy.log"), "w"))
        procs.append(proxy)
        client = Client(listen)
        while client.get("/measured/x")[1] != "stable":
            if time.time() - written > 120:
                sys.exit("Envoy did not route within 120 s:\n" + open(os.path.join(work, "envoy.log")).read()[-2000:])
            time.sleep(0.01)
        startup = (written - started, time.time() - written)
        if dns:
            return startup, []
        time.sleep(1)
        rows = []

        def step(**changes):
            def apply():
                state.update(changes)
                return write_input(target, n, ports, **state)
            return apply

        route_stat = "http.ingress_http.rds.attache-routes.version_text"
        attache_share, envoy_share, served, confirmed = measure_change(
            step(weight=60), os.path.join(xds, "rtds" + suffix), "runtime.version_text", admin,
            lambda: client.get("/measured/x")[1] == "canary")
        counts = {}
        for _ in range(300):
            backend = client.get("/measured/x")[1]
            counts[backend] = counts.get(backend, 0) + 1
        rows.append(("weight step 0 → 60%", "rtds" + suffix, attache_share, envoy_share, served, confirmed,
                     f"canary {counts.get('canary', 0)}/300"))
        rows.append(("header route added", "rds" + suffix) + measure_change(
            step(header_route=True), os.path.join(xds, "rds" + suffix), route_stat, admin,
            lambda: all(client.get("/measured/x", {"x-canary": "1"})[1] == "canary" for _ in range(15))) + ("",))
        rows.append(("Mapping added", f"rds{suffix} + cds{suffix}") + measure_change(
            step(added=True), os.path.join(xds, "rds" + suffix), route_stat, admin,
            lambda: client.get("/added/x")[1] == "added") + ("",))
        endpoint_file = os.path.join(xds, "endpoints", "k8s_default_pods_80.json")
        if not os.path.exists(endpoint_file):
            candidates = [f for f in os.listdir(os.path.join(xds, "endpoints")) if "pods" in f and f.endswith(".json")]
            endpoint_file = os.path.join(xds, "endpoints", candidates[0])
        cluster = json.load(open(endpoint_file))["resources"][0]["cluster_name"]
        rows.append(("pods changed", "endpoints/<cluster>" + suffix) + measure_change(
            step(pods="pod2"), endpoint_file[:-len(".json")] + suffix, f"cluster.{cluster}.version_text", admin,
            lambda: client.get("/pods/x")[1] == "pod2") + ("",))
        return startup, rows
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait()
        backends.stdin.close()
        backends.terminate()
        backends.wait()


def main():
    arguments = sys.argv[1:]
    encoding = "protobuf"
    if "--xds-encoding" in arguments:
        at = arguments.index("--xds-encoding")
        encoding = arguments[at + 1]
        del arguments[at:at + 2]
    attache, envoy = arguments[0], arguments[1]
    results = []
    for n in [int(a) for a in arguments[2:]]:
        with tempfile.TemporaryDirectory(prefix="attache-bench-e2e-") as work:
            startup, rows = run(attache, envoy, n, work, encoding)
        with tempfile.TemporaryDirectory(prefix="attache-bench-e2e-dns-") as work:
            dns_startup, _ = run(attache, envoy, n, work, encoding, dns=True)
            results.append((n, startup + dns_startup, rows))
            print(f"  end to end N={n}: " + ", ".join(f"{r[0]} {r[4] * 1000:.0f} ms" for r in rows), file=sys.stderr)
    print()
    print("| End to end, Mappings (+twins) | change | file | attache: input → file | Envoy: file → served | input → first request served | Envoy's stats show the file's version | split served |")
    print("|---|---|---|---|---|---|---|---|")
    for n, startup, rows in results:
        for name, file, attache_share, envoy_share, served, confirmed, note in rows:
            print(f"| {n:,} ({n + n // 5:,}) | {name} | {file} | {attache_share * 1000:.0f} ms | {envoy_share * 1000:.0f} ms | "
                  f"{served * 1000:.0f} ms | {'yes' if confirmed else 'NO'} | {note} |")
    print()
    print("| Start-up, Mappings (+twins) | attache start → bootstrap written | bootstrap → Envoy routing | "
          "the same with DNS-named upstreams (`localhost:PORT`, from /etc/hosts): bootstrap written | Envoy routing |")
    print("|---|---|---|---|---|")
    for n, startup, rows in results:
        print(f"| {n:,} ({n + n // 5:,}) | {startup[0] * 1000:.0f} ms | {startup[1] * 1000:.0f} ms | "
              f"{startup[2] * 1000:.0f} ms | {startup[3] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
