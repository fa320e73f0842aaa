#!/usr/bin/env python3
"""`attache watch --kubernetes` against Tests/Harness/fake_apiserver.py with N Mappings (+ N/5 canary twins at
weight 20): the time from the end of the initial LIST to the first config on disk, and from a watch event (a
canary weight changed through the API) to rtds.json renamed (a weight step writes nothing else). Figures only. Used by scripts/bench; alone:

    python3 scripts/benchmark/kubernetes.py BINARY N [N ...]
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_pki(work):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=bench CA", cwd=work)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj",
            "/CN=localhost", cwd=work)
    with open(os.path.join(work, "ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "7", "-out",
            "server.crt", "-days", "2", "-extfile", "ext", cwd=work)


def mapping(name, prefix, service, weight=None):
    spec = {"hostname": "*", "prefix": prefix, "service": service}
    if weight is not None:
        spec["weight"] = weight
    return {"apiVersion": "getambassador.io/v3alpha1", "kind": "Mapping",
            "metadata": {"name": name, "namespace": "default"}, "spec": spec}


def control(port, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def measure(binary, n, work, rounds=5):
    make_pki(work)
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests", "Harness", "fake_apiserver.py"),
                               os.path.join(work, "server.crt"), os.path.join(work, "server.key"), "bench-token"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        ports = json.loads(server.stdout.readline())
        objects = []
        for i in range(n):
            objects.append(mapping(f"svc-{i}", f"/svc-{i}/", f"10.0.{i // 250}.{i % 250 + 1}:8080"))
            if i % 5 == 0:
                objects.append(mapping(f"svc-{i}-canary", f"/svc-{i}/", f"10.1.{i // 250}.{i % 250 + 1}:8080", 20))
        for start in range(0, len(objects), 2000):
            control(ports["control"], "/apply", objects[start:start + 2000])
        with open(os.path.join(ROOT, "scripts", "benchmark", "kubeconfig.template")) as f:
            template = f.read()
        with open(os.path.join(work, "ca.crt"), "rb") as f:
            import base64
            ca = base64.b64encode(f.read()).decode()
        kubeconfig = os.path.join(work, "kubeconfig")
        with open(kubeconfig, "w") as f:
            f.write(template.replace("@PORT@", str(ports["api"])).replace("@CA@", ca))
        xds = os.path.join(work, "xds")
        os.makedirs(xds)
        weights = os.path.join(xds, "rtds.json")
        started = time.time()
        watch = subprocess.Popen([binary, "watch", "--kubernetes", "--kubeconfig", kubeconfig, "--xds-dir", xds],
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "watch.log"), "w"))
        try:
            while not os.path.exists(os.path.join(xds, "bootstrap.json")):
                if time.time() - started > 300:
                    sys.exit("watch --kubernetes wrote nothing within 300 s")
                time.sleep(0.002)
            written = time.time()
            list_end = control(ports["control"], "/stats")["last_list_end"]
            first_config = written - list_end
            time.sleep(0.5)
            latencies = []
            for i in range(rounds):
                before = os.stat(weights).st_ino
                changed_at = time.time()
                control(ports["control"], "/apply", mapping("svc-0-canary", "/svc-0/", "10.1.0.1:8080", 21 + i))
                while os.stat(weights).st_ino == before:
                    if time.time() - changed_at > 30:
                        sys.exit("no rtds.json within 30 s of a watch event:\n" + open(os.path.join(work, "watch.log")).read()[-3000:])
                    time.sleep(0.0005)
                latencies.append(time.time() - changed_at)
                time.sleep(0.3)
            return written - started, first_config, sorted(latencies)
        finally:
            watch.terminate()
            watch.wait()
    finally:
        server.stdin.close()
        server.terminate()
        server.wait()


def main():
    binary = sys.argv[1]
    rows = []
    for n in [int(a) for a in sys.argv[2:]]:
        with tempfile.TemporaryDirectory(prefix="attache-bench-k8s-") as work:
            total, first, lat = measure(binary, n, work)
            rows.append((n, total, first, lat))
            print(f"  watch --kubernetes N={n}: first config {first * 1000:.0f} ms after the LIST", file=sys.stderr)
    print()
    print("| `attache watch --kubernetes`, Mappings (+twins) | start → first config | end of initial LIST → first config | watch event (a weight) → rtds.json renamed: best / median / worst of 5 |")
    print("|---|---|---|---|")
    for n, total, first, lat in rows:
        print(f"| {n:,} ({n + n // 5:,}) | {total * 1000:.0f} ms | {first * 1000:.0f} ms | "
              f"{lat[0] * 1000:.0f} / {lat[len(lat) // 2] * 1000:.0f} / {lat[-1] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
