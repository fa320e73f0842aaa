#!/usr/bin/env python3
"""Writes a synthetic Ambassador input of N Mappings, as issue 8 describes it.

One Service per Mapping with 3 ready endpoints (an Endpoints object), 50 namespaces, one in five Mappings with a
weighted canary twin, one in five with a header-matched twin, a third endpoint-routed, half written as Service
annotations and half as CRDs. Deterministic: the same N gives the same bytes.

Usage: generate.py N OUTPUT.yaml
"""
import sys


def main():
    n = int(sys.argv[1])
    out = open(sys.argv[2], "w")
    w = out.write
    for i in range(n):
        ns = f"ns{i % 50}"
        svc = f"svc{i}"
        endpoint = i % 3 == 0
        resolver = "  resolver: endpoint\n" if endpoint else ""
        prefix = f"/app{i}/"
        extra = []  # (name, service, extra lines)
        if i % 5 == 1:
            extra.append((f"m{i}-canary", f"{svc}-canary", ["weight: 20"]))
        if i % 5 == 3:
            extra.append((f"m{i}-gray", f"{svc}-gray", ["headers:", "  x-gray: \"true\""]))
        if i % 2 == 0:
            # Service annotation: the Mapping(s) ride on the Service.
            docs = [(f"m{i}", svc, [])] + extra
            w(f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {svc}\n  namespace: {ns}\n  annotations:\n")
            w("    getambassador.io/config: |\n")
            for name, service, lines in docs:
                w(f"      ---\n      apiVersion: getambassador.io/v2\n      kind: Mapping\n      name: {name}\n")
                w(f"      prefix: {prefix}\n      service: {service}:80\n")
                if endpoint:
                    w("      resolver: endpoint\n")
                for line in lines:
                    w(f"      {line}\n")
            w("spec:\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n")
        else:
            for name, service, lines in [(f"m{i}", svc, [])] + extra:
                w(f"---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata:\n  name: {name}\n  namespace: {ns}\n")
                w(f"spec:\n  prefix: {prefix}\n  service: {service}:80\n{resolver}")
                for line in lines:
                    w(f"  {line}\n")
            w(f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {svc}\n  namespace: {ns}\n")
            w("spec:\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n")
        # Twins' Services and every Service's endpoints.
        for name, service, _ in extra:
            w(f"---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {service}\n  namespace: {ns}\n")
            w("spec:\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n")
        for service in [svc] + [e[1] for e in extra]:
            base = (i * 7 + len(service)) % 250
            w(f"---\napiVersion: v1\nkind: Endpoints\nmetadata:\n  name: {service}\n  namespace: {ns}\nsubsets:\n")
            w(f"- addresses:\n  - ip: 10.{i % 250}.{base}.1\n  - ip: 10.{i % 250}.{base}.2\n  - ip: 10.{i % 250}.{base}.3\n")
            w("  ports:\n  - name: http\n    port: 8080\n")
    out.close()


if __name__ == "__main__":
    main()
