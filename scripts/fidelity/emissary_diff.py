#!/usr/bin/env python3
"""Differential harness: does Attaché route every request exactly as Emissary-ingress's own translator does?

For each input (a random Mapping set, or given files) it runs Emissary's Python translator (after the Go half's
conversions, go_half.py) and `attache translate`, reads both Envoy configs with one evaluator (envoy_routes.py), and
compares where each probe request goes: upstream, share of Envoy's random draw, rewritten path, Host rewrite,
timeouts, or 404. Differences are printed with the input that produced them (saved under --keep DIR).

An input with Listeners and Hosts of its own (`random --edge` makes such sets) is compared on the cleartext filter
chain of its port-8080 Listener: each probe first picks a virtual host by its authority as Envoy does (exact name,
then the longest `*.suffix`, then the longest `prefix.*`, then `*`), then a route; probes come with
x-forwarded-proto http and https. Emissary runs with strict label selectors then (its default).

Usage (scripts/emissary-diff wraps this; see docs/FIDELITY.md):
  emissary_diff.py --emissary EMISSARY_ROOT --attache BINARY random [--sets N] [--seed S] [--edge] [--keep DIR]
  emissary_diff.py --emissary EMISSARY_ROOT --attache BINARY files PATH... [--keep DIR]

EMISSARY_ROOT is an Emissary 3.x checkout whose python/ is importable by this interpreter. This is a developer
tool: it needs that checkout and its Python requirements, which CI does not have.
"""

import argparse
import json
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import envoy_routes  # noqa: E402
import go_half  # noqa: E402
from envoy_routes import Request, RouteTable  # noqa: E402


# ---------------------------------------------------------------------------------------------------------------
# Running the two translators


class Emissary:
    def __init__(self, root):
        sys.path.insert(0, os.path.join(root, "python"))
        # See go_half.NO_HOST_LABEL: the harness's Host takes Mappings by hostname or by its label selector.
        os.environ["DISABLE_STRICT_LABEL_SELECTORS"] = "true"
        logging.basicConfig(level=logging.CRITICAL)
        from ambassador.compile import Compile  # noqa: E402

        self.compile = Compile
        self.schemas = go_half.Schemas(root)
        self.scratch = tempfile.mkdtemp(prefix="emissary-secrets-")
        self.logger = logging.getLogger("emissary")
        self.logger.setLevel(logging.CRITICAL)

    def route_table(self, documents, args=()):
        from ambassador.config import Config
        Config.ambassador_id = option_value(args, "--ambassador-id", "default")
        Config.ambassador_namespace = option_value(args, "--ambassador-namespace", "default")
        edge = is_edge(documents, Config.ambassador_id)
        snapshot, notes = go_half.watt_snapshot(documents, self.schemas, ambassador_id=Config.ambassador_id, edge=edge)
        # The input's own Hosts select Mappings as Emissary 3.x does by default (strictly); the harness's Host
        # needs the loose matching (see go_half.NO_HOST_LABEL).
        os.environ["DISABLE_STRICT_LABEL_SELECTORS"] = "false" if edge else "true"
        try:
            # Emissary as it runs in a cluster: a Secret the input lacks is missing (Compile's default handler
            # would invent one for any name, e.g. the fallback-self-signed-cert that makes a default Host TLS).
            # (The base SecretHandler: EmptySecretHandler does the same but decodes Secrets into the working
            # directory, whatever directory it is given.)
            from ambassador.utils import SecretHandler
            handler = SecretHandler(self.logger, self.scratch, self.scratch, "0")
            result = self.compile(self.logger, json.dumps(snapshot), k8s=False, secret_handler=handler)
        except Exception as error:  # Emissary's translator itself fails on some input (e.g. a malformed IPv6 address)
            return RouteTable([], {}), notes + [f"emissary failed: {type(error).__name__}: {error}"], snapshot
        notes = notes + shared_cluster_notes(result["ir"])
        config = result["xds"].as_dict()
        resources = config["static_resources"]
        upstreams = {c["name"]: envoy_routes.upstream_of_cluster(c) for c in resources["clusters"]}
        errors = []
        for rkey, items in result["ir"].aconf.errors.items():
            for item in items:
                if "Pod labels" not in item.get("error", ""):
                    errors.append(f"{rkey}: {item.get('error')}")
        if edge:
            return EdgeTable.of_listeners(resources["listeners"], upstreams), notes + errors, snapshot
        routes = []
        for listener in resources["listeners"]:
            if listener["address"]["socket_address"]["port_value"] != 8080:
                continue
            for chain in listener["filter_chains"]:
                for network_filter in chain["filters"]:
                    for vhost in network_filter["typed_config"].get("route_config", {}).get("virtual_hosts", []):
                        routes += [r for r in vhost["routes"] if not r["match"].get("prefix", "").startswith("/ambassador/v0/")]
        return RouteTable(routes, upstreams), notes + errors, snapshot


def is_edge(documents, ambassador_id="default"):
    """Whether the input has Listeners or Hosts of its own (a `kind: List`'s items included) for this
    `ambassador_id` (another installation's are not read by either side)."""
    def ours(item):
        spec = item.get("spec") if isinstance(item.get("spec"), dict) else {}
        ids = spec.get("ambassador_id", "default")
        ids = ids if isinstance(ids, list) else [ids]
        return ambassador_id in ids or "_automatic_" in ids

    def annotated(item):
        text = ((item.get("metadata") or {}).get("annotations") or {}).get("getambassador.io/config")
        try:
            return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)] if isinstance(text, str) else []
        except yaml.YAMLError:
            return []

    for doc in documents:
        if not isinstance(doc, dict):
            continue
        items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else None
        for item in items if isinstance(items, list) else [doc]:
            if not isinstance(item, dict):
                continue
            for candidate in [item] + annotated(item):
                # An annotation document is flat: its fields are its spec.
                spec_holder = candidate if "spec" in candidate else {"spec": candidate}
                if candidate.get("kind") in ("Host", "Listener") and ours(spec_holder):
                    return True
    return False


class EdgeTable:
    """The virtual hosts of a listener's cleartext filter chain, each with its RouteTable: a request first picks a
    virtual host by its authority as Envoy does, then a route there."""

    def __init__(self, virtual_hosts, upstreams, listening=True):
        self.virtual_hosts = virtual_hosts  # [(domains, RouteTable)]
        self.routes = [r for _, table in virtual_hosts for r in table.routes]
        self.listening = listening  # whether anything listens on 8080 in cleartext

    @staticmethod
    def of_listeners(listeners, upstreams, route_files=None):
        hosts = []
        listening = False
        for listener in listeners:
            if listener["address"]["socket_address"]["port_value"] != 8080:
                continue
            for chain in listener["filter_chains"]:
                match = chain.get("filter_chain_match") or {}
                if match.get("server_names") or match.get("transport_protocol") == "tls":
                    continue
                listening = True
                for network_filter in chain["filters"]:
                    manager = network_filter.get("typed_config", {})
                    config = manager.get("route_config")
                    if config is None and "rds" in manager and route_files:
                        config = route_files(manager["rds"]["route_config_name"])
                    for vhost in (config or {}).get("virtual_hosts", []):
                        routes = [r for r in vhost["routes"]
                                  if not r["match"].get("prefix", "").startswith("/ambassador/v0/")]
                        hosts.append(([d.lower() for d in vhost["domains"]], RouteTable(routes, upstreams)))
        return EdgeTable(hosts, upstreams, listening)

    def select(self, host):
        """Envoy's order: an exact name, then the longest suffix wildcard, then the longest prefix wildcard, then
        `*`; the first virtual host listing the winning domain."""
        host = host.lower()
        best = None
        for domains, table in self.virtual_hosts:
            for domain in domains:
                if domain == host:
                    rank = (3, len(domain))
                elif domain == "*":
                    rank = (0, 0)
                elif domain.startswith("*") and host.endswith(domain[1:]) and len(host) > len(domain) - 1:
                    rank = (2, len(domain))
                elif domain.endswith("*") and host.startswith(domain[:-1]) and len(host) > len(domain) - 1:
                    rank = (1, len(domain))
                else:
                    continue
                if best is None or rank > best[0]:
                    best = (rank, table)
        return best[1] if best else None

    def evaluate(self, request):
        from collections import Counter
        if not self.listening:
            return Counter({("nothing listens on 8080",): 100})
        table = self.select(request.host)
        if table is None:
            return Counter({("not found",): 100})  # Envoy answers 404 when no virtual host takes the authority
        return table.evaluate(request)


CLUSTER_SETTINGS = ("resolver", "connect_timeout_ms", "enable_ipv6", "enable_ipv4", "tls", "grpc", "dns_type",
                    "respect_dns_ttl", "cluster_idle_timeout_ms", "cluster_max_connection_lifetime_ms", "keepalive",
                    "circuit_breakers")


def shared_cluster_notes(ir):
    """Clusters Emissary shares between Mappings whose cluster settings differ (the first Mapping's settings win
    there; Attaché gives each its own cluster), naming the Mappings as `(Mapping namespace/name)`."""
    settings, users = {}, {}
    for group in ir.ordered_groups():
        for mapping in getattr(group, "mappings", []):
            cluster = mapping.get("cluster")
            if cluster is None:
                continue
            values = tuple(str(mapping.get(key)) for key in CLUSTER_SETTINGS)
            settings.setdefault(cluster.name, set()).add(values)
            users.setdefault(cluster.name, []).append(f"(Mapping {mapping.get('namespace')}/{mapping.get('name')})")
    return [f"cluster {name} is shared by Mappings with different cluster settings: {' '.join(users[name])}"
            for name, found in settings.items() if len(found) > 1]


class InputRefused(Exception):
    """Attaché refuses the input as a whole (YAML it will not read, such as an alias bomb): nothing to compare."""


def option_value(args, name, default):
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return default


class Attache:
    def __init__(self, binary):
        self.binary = binary

    def route_table(self, directory, args=(), edge=False):
        out = os.path.join(directory, "attache-out")
        run = subprocess.run([self.binary, "translate", *args, "--output", out, os.path.join(directory, "input.yaml")],
                             capture_output=True, text=True, timeout=60)
        if run.returncode == 2:
            raise InputRefused(run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "exit status 2")
        with open(os.path.join(out, "clusters.json")) as f:
            clusters = json.load(f)
        upstreams = {c["name"]: envoy_routes.upstream_of_cluster(c) for c in clusters}
        if edge:
            with open(os.path.join(out, "bootstrap.json")) as f:
                listeners = json.load(f)["static_resources"]["listeners"]
            return EdgeTable.of_listeners(listeners, upstreams), run.stderr.strip().splitlines()
        with open(os.path.join(out, "routes.json")) as f:
            route_configuration = json.load(f)
        routes = [r for vh in route_configuration.get("virtual_hosts", []) for r in vh.get("routes", [])]
        return RouteTable(routes, upstreams), run.stderr.strip().splitlines()


# ---------------------------------------------------------------------------------------------------------------
# Random Mapping sets

PREFIXES = ["/", "/a/", "/a/b/", "/Shop/", "/svc/", "/api/", "/api"]
# Regexes with sample paths on which Python's re and RE2 agree.
REGEX_PREFIXES = [("/r/[0-9]+", ["/r/123", "/r/x"]), ("/rx/.*", ["/rx/a", "/RX/a"]), ("/(a|b)/c", ["/a/c", "/b/c", "/A/c"])]
SERVICES = ["svc-a", "svc-b", "svc-c", "10.0.0.1:8080", "svc-a.prod:81", "https://svc-t", "svc-b:8080"]
HOSTS = ["foo.example.com", "*.example.com", "bar.*", "*", "foo", "Foo.Example.com"]
HEADER_NAMES = ["gray", "x-user", "x-b"]
HEADER_VALUES = ["true", "a", "b"]
REGEX_VALUES = [("a.*", ["a", "abc", "b"]), ("[0-9]+", ["42", "x"])]
WEIGHTS = [0, 10, 20, 30, 50, 60, 100]


def random_mapping(rng, index, namespace, version, in_annotation):
    spec = {}
    is_v3 = version.endswith("v3alpha1")
    roll = rng.random()
    if roll < 0.1:
        pattern, _ = rng.choice(REGEX_PREFIXES)
        spec["prefix"], spec["prefix_regex"] = pattern, True
    elif roll < 0.17:
        spec["prefix"], spec["prefix_exact"] = rng.choice(["/a/", "/exact", "/Shop/"]), True
    else:
        spec["prefix"] = rng.choice(PREFIXES)
    spec["service"] = rng.choice(SERVICES)
    if rng.random() < 0.12:
        spec["resolver"] = "endpoint"
        spec["service"] = rng.choice(["websvc", "websvc:8080", "websvc.prod:80", "10.0.0.2:9000", "https://websvc"])
    if rng.random() < 0.35:
        spec["weight"] = rng.choice(WEIGHTS)
    if rng.random() < 0.25:
        headers = {}
        for _ in range(rng.randint(1, 2)):
            value = rng.choice(HEADER_VALUES + ([True] if not is_v3 else []))
            headers[rng.choice(HEADER_NAMES)] = value
        if rng.random() < 0.15:
            headers[":authority"] = rng.choice(["foo.example.com", "bar.example.com"])
        spec["headers"] = headers
    if rng.random() < 0.1:
        spec["regex_headers"] = {rng.choice(HEADER_NAMES): rng.choice(REGEX_VALUES)[0]}
    if rng.random() < 0.1:
        spec["query_parameters"] = {"q": rng.choice(["1", "2"] + ([True] if not is_v3 else []))}
    if rng.random() < 0.1:
        spec["regex_query_parameters"] = {"r": rng.choice(REGEX_VALUES)[0]}
    roll = rng.random()
    if is_v3:
        if roll < 0.55:
            spec["hostname"] = rng.choice(HOSTS)
        if rng.random() < 0.2:
            spec["host"] = rng.choice([h for h in HOSTS if "*" not in h or not in_annotation])
        if rng.random() < 0.05:
            spec["host"], spec["host_regex"] = "[a-z]+\\.example\\.org", True
        if rng.random() < 0.1:
            spec.setdefault("headers", {})[":authority"] = rng.choice(["foo.example.com", "bar.example.com"])
    else:
        if roll < 0.3:
            spec["host"] = rng.choice(HOSTS)
        elif roll < 0.35:
            spec["host"], spec["host_regex"] = "[a-z]+\\.example\\.org", True
    if rng.random() < 0.1:
        spec["method"] = rng.choice(["POST", "GET", "PUT"])
        if rng.random() < 0.3:
            spec["method"], spec["method_regex"] = rng.choice(["GET|POST", "P.*"]), True
    if rng.random() < 0.1:
        spec["precedence"] = rng.choice([1, 2, -1])
    if rng.random() < 0.2:
        spec["rewrite"] = rng.choice(["", "/x/", "/"])
    if rng.random() < 0.15:
        spec["case_sensitive"] = rng.choice([False, True])
    if rng.random() < 0.1:
        spec["timeout_ms"] = rng.choice([1000, 5000])
    if rng.random() < 0.05:
        spec["idle_timeout_ms"] = 7000
    if rng.random() < 0.1:
        spec["host_rewrite"] = "rewritten.example.com"
    # Issue 18's fields, each in a few Mappings: where traffic goes must still agree.
    if rng.random() < 0.04:
        spec["shadow"] = True
    elif rng.random() < 0.04:
        spec["host_redirect"] = True
        spec["service"] = rng.choice(["new.example.com", "moved.example.com:8080", "bare"])
        if is_v3 and "hostname" not in spec and "host" not in spec:
            # Emissary attaches a redirect group to a Host only by its host glob (the group has no Mappings whose
            # labels a mappingSelector could match), so a v3alpha1 redirect without one routes nowhere there: the
            # documented deliberate difference "a v3alpha1 Mapping naming no host routes every host".
            spec["hostname"] = "*"
        choice = rng.random()
        if choice < 0.3:
            spec["path_redirect"] = "/elsewhere"
        elif choice < 0.6:
            spec["prefix_redirect"] = "/moved/"
        elif choice < 0.8:
            spec["regex_redirect"] = {"pattern": "^/([a-z]+)/(.*)$", "substitution": "/\\2/\\1"}
        if rng.random() < 0.5:
            spec["redirect_response_code"] = rng.choice([301, 302, 307, 308])
    if rng.random() < 0.04:
        spec["regex_rewrite"] = {"pattern": "^/([a-z]+)/", "substitution": "/rx/\\1/"}
    if rng.random() < 0.03 and "host_rewrite" not in spec:
        spec["auto_host_rewrite"] = True
    if rng.random() < 0.03:
        spec["allow_upgrade"] = ["websocket"]
    if rng.random() < 0.02:
        spec["use_websocket"] = True
    if rng.random() < 0.03:
        spec["retry_policy"] = {"retry_on": rng.choice(["5xx", "gateway-error"]), "num_retries": rng.choice([1, 3])}
    if rng.random() < 0.03:
        spec["cors"] = {"origins": ["https://a.example.com"], "methods": ["GET", "POST"], "max_age": "60"}
    if rng.random() < 0.03:
        spec["load_balancer"] = rng.choice([{"policy": "least_request"}, {"policy": "ring_hash", "header": "x-user"},
                                            {"policy": "maglev", "source_ip": True}])
    if rng.random() < 0.03:
        spec["grpc"] = True
    if rng.random() < 0.02:
        spec["add_linkerd_headers"] = True
    return spec


def random_set(rng):
    """A list of Kubernetes documents: Mapping CRDs (v2, v3alpha1), Services carrying annotation Mappings
    (v1, v2, v3alpha1), sometimes the ambassador Module."""
    documents = []
    namespaces = ["default", "prod"]
    services = {}
    names = ["m" + str(i) for i in range(6)] + ["shop", "shop.stable", "shop.canary"]
    for index in range(rng.randint(2, 12)):
        namespace = rng.choice(namespaces)
        version = rng.choice(["getambassador.io/v2", "getambassador.io/v3alpha1", "ambassador/v1", "ambassador/v2",
                              "getambassador.io/v3alpha1", "getambassador.io/v2"])
        annotation = version.startswith("ambassador/") or rng.random() < 0.3
        if version.startswith("ambassador/") and not annotation:
            version = "getambassador.io/" + version.split("/", 1)[1]
        name = rng.choice(names) if rng.random() < 0.3 else f"map{index}"
        spec = random_mapping(rng, index, namespace, version, annotation)
        if annotation:
            owner = rng.choice(["svc-a", "svc-b", name.split(".")[0]])
            doc = {"apiVersion": version, "kind": "Mapping", "name": name}
            if namespace != "default" or rng.random() < 0.3:
                doc["namespace"] = namespace
            doc.update(spec)
            services.setdefault((owner, namespace if "namespace" in doc else "default"), []).append(doc)
        else:
            documents.append({"apiVersion": version, "kind": "Mapping",
                              "metadata": {"name": name, "namespace": namespace}, "spec": spec})
    for (owner, namespace), docs in services.items():
        documents.append({"apiVersion": "v1", "kind": "Service",
                          "metadata": {"name": owner, "namespace": namespace,
                                       "annotations": {"getambassador.io/config": yaml.safe_dump_all(docs, sort_keys=False)}},
                          "spec": {"ports": [{"port": 80}]}})
    if rng.random() < 0.2:
        config = {}
        if rng.random() < 0.7:
            config["cluster_request_timeout_ms"] = rng.choice([2000, 9000])
        if rng.random() < 0.3:
            config["use_ambassador_namespace_for_service_resolution"] = True
        if rng.random() < 0.3:
            config["resolver"] = "endpoint"
        documents.append({"apiVersion": "getambassador.io/v3alpha1", "kind": "Module",
                          "metadata": {"name": "ambassador", "namespace": "default"}, "spec": {"config": config}})
    if any(isinstance(d, dict) and "endpoint" in json.dumps(d) for d in documents) or rng.random() < 0.1:
        documents.append({"apiVersion": "getambassador.io/v3alpha1", "kind": "KubernetesEndpointResolver",
                          "metadata": {"name": "endpoint", "namespace": "default"}, "spec": {}})
        for namespace in ("default", "prod"):
            documents.append({"apiVersion": "v1", "kind": "Service",
                              "metadata": {"name": "websvc", "namespace": namespace},
                              "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080},
                                                 {"name": "alt", "port": 8080, "targetPort": 9090}]}})
            documents.append({"apiVersion": "v1", "kind": "Endpoints",
                              "metadata": {"name": "websvc", "namespace": namespace},
                              "subsets": [{"addresses": [{"ip": "10.1.0.1"}, {"ip": "10.1.0.2"}],
                                           "ports": [{"name": "http", "port": 8080}, {"name": "alt", "port": 9090}]}]})
    rng.shuffle(documents)
    return documents


EDGE_HOSTNAMES = ["*", "foo.example.com", "*.example.com", "bar.example.com", "shop.test", "*.test"]
TEAMS = ["a", "b"]
_edge_certificate = []


def edge_certificate_secret():
    """A kubernetes.io/tls Secret with a self-signed certificate for the edge sets' names (made once, by openssl)."""
    if not _edge_certificate:
        import base64
        with tempfile.TemporaryDirectory() as directory:
            key, cert = os.path.join(directory, "key.pem"), os.path.join(directory, "cert.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
                            "-subj", "/CN=example.com", "-keyout", key, "-out", cert, "-addext",
                            "subjectAltName=DNS:*.example.com,DNS:*.test,DNS:shop.test,DNS:example.com"],
                           check=True, capture_output=True)
            data = {name: base64.b64encode(open(path, "rb").read()).decode()
                    for name, path in (("tls.crt", cert), ("tls.key", key))}
        _edge_certificate.append({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                                  "metadata": {"name": "edge-cert", "namespace": "default"}, "data": data})
    return json.loads(json.dumps(_edge_certificate[0]))


def random_edge_set(rng):
    """A Listener on 8080 (or none) and Hosts of its own (names, label selectors, insecure actions, TLS), and Mappings
    that name hosts or not and carry team labels or not: how Emissary 3.x's Hosts pick their Mappings."""
    documents = [{"apiVersion": "getambassador.io/v3alpha1", "kind": "Listener",
                  "metadata": {"name": "http", "namespace": "default"},
                  "spec": {"port": 8080, "protocol": rng.choice(["HTTP", "HTTP", "HTTPS"]),
                           "securityModel": rng.choice(["XFP", "XFP", "XFP", "INSECURE", "SECURE"]),
                           "hostBinding": rng.choice([{"namespace": {"from": "ALL"}}] * 3 + [
                               {"namespace": {"from": "SELF"}}, {"selector": {"matchLabels": {"edge": "yes"}}}])}}]
    if rng.random() < 0.15:
        documents = []  # Hosts only: both sides listen as Emissary's Helm chart does (see go_half.watt_snapshot)
    for index in range(rng.randint(1, 4)):
        spec = {"hostname": rng.choice(EDGE_HOSTNAMES)} if rng.random() < 0.95 else {}
        if rng.random() < 0.4:
            spec["mappingSelector"] = {"matchLabels": {"team": rng.choice(TEAMS)}}
        if rng.random() < 0.7:
            spec["requestPolicy"] = {"insecure": {"action": rng.choice(["Route", "Redirect", "Reject"])}}
        if rng.random() < 0.3:
            # TLS changes the default insecure action (Redirect) and which requests are secure.
            spec["tlsSecret"] = {"name": "edge-cert"}
        metadata = {"name": f"host{index}", "namespace": rng.choice(["default", "prod"])}
        if rng.random() < 0.5:
            metadata["labels"] = {"edge": "yes"}
        documents.append({"apiVersion": "getambassador.io/v3alpha1", "kind": "Host", "metadata": metadata,
                          "spec": spec})
    for index in range(rng.randint(2, 10)):
        version = rng.choice(["getambassador.io/v3alpha1", "getambassador.io/v3alpha1", "getambassador.io/v2"])
        spec = {"prefix": rng.choice(PREFIXES), "service": rng.choice(SERVICES)}
        roll = rng.random()
        if version.endswith("v3alpha1"):
            if roll < 0.55:
                spec["hostname"] = rng.choice(EDGE_HOSTNAMES + ["other.example.org"])
            elif roll < 0.62:
                spec["host"], spec["host_regex"] = "[a-z]+\\.example\\.org", True
            elif roll < 0.7:
                spec["headers"] = {":authority": rng.choice(["foo.example.com", "shop.test"])}
        elif roll < 0.5:
            spec["host"] = rng.choice(EDGE_HOSTNAMES)
        if rng.random() < 0.3:
            spec["weight"] = rng.choice(WEIGHTS)
        if rng.random() < 0.2:
            spec.setdefault("headers", {})[rng.choice(HEADER_NAMES)] = rng.choice(HEADER_VALUES)
        if rng.random() < 0.15:
            spec["precedence"] = rng.choice([1, 2])
        metadata = {"name": rng.choice([f"map{index}", "shop", "shop-canary"]) if rng.random() < 0.3 else f"map{index}",
                    "namespace": rng.choice(["default", "prod"])}
        if rng.random() < 0.5:
            metadata["labels"] = {"team": rng.choice(TEAMS)}
        documents.append({"apiVersion": version, "kind": "Mapping", "metadata": metadata, "spec": spec})
    if any(d.get("kind") == "Host" and "tlsSecret" in d["spec"] for d in documents):
        secret = edge_certificate_secret()
        # A Host in another namespace finds its Secret there.
        documents += [secret] + [dict(secret, metadata={"name": "edge-cert", "namespace": "prod"})]
    rng.shuffle(documents)
    return documents


# ---------------------------------------------------------------------------------------------------------------
# Probe requests


def sample_hosts(host):
    if host is None:
        return ["www.example.com"]
    if host == "*":
        return ["any.test"]
    if host.startswith("*"):
        return ["a" + host[1:].lower(), "x.other.test"]
    if host.endswith("*"):
        return [host[:-1].lower() + "io", "nothing.test"]
    if any(c in host for c in "[]+\\^$"):
        return ["abc.example.org", "1.example.org"]
    return [host.lower(), "nothing.test"]


def sample_paths(spec):
    prefix = spec.get("prefix", "/")
    if not isinstance(prefix, str):
        return ["/"]
    if spec.get("prefix_regex"):
        for pattern, samples in REGEX_PREFIXES:
            if pattern == prefix:
                return samples
        return ["/"]
    if spec.get("prefix_exact"):
        return [prefix, prefix + "x", prefix.lower()]
    return [prefix + "p/q", prefix, prefix.lower() + "z", prefix.upper() + "z"]


def sample_values(value):
    if value is True:
        return ["anything"]
    if value is False or value is None:
        return ["False", "anything"]
    for pattern, samples in REGEX_VALUES:
        if pattern == value:
            return samples
    return [str(value), str(value) + "-not"]


def mapping_specs(documents):
    """Every Mapping spec in the input, flat (annotation documents included)."""
    specs = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "Mapping" and isinstance(doc.get("spec"), dict):
            specs.append(doc["spec"])
        text = ((doc.get("metadata") or {}).get("annotations") or {}).get("getambassador.io/config")
        if isinstance(text, str):
            try:
                for inner in yaml.safe_load_all(text):
                    if isinstance(inner, dict) and inner.get("kind") == "Mapping":
                        specs.append(inner)
            except yaml.YAMLError:
                pass
    return specs


def probes(documents, rng):
    """Requests aimed at each Mapping: one that meets all its conditions, and variants that break one each."""
    requests = [Request(path="/"), Request(path="/a/b/c"), Request(path="/shop/x"), Request(path="/Shop/x")]
    # With Hosts, every Mapping is also tried on every Host's names (a Host selects Mappings by more than the name).
    host_names = []
    for doc in documents:
        if isinstance(doc, dict) and doc.get("kind") == "Host":
            hostname = (doc.get("spec") or {}).get("hostname")
            host_names += sample_hosts(hostname if isinstance(hostname, str) else "*")

    def entries(spec, key):
        value = spec.get(key)
        return value.items() if isinstance(value, dict) else []

    for spec in mapping_specs(documents):
        host = spec.get("hostname", spec.get("host"))
        headers = {}
        for key in ("headers", "regex_headers"):
            for name, value in entries(spec, key):
                if isinstance(name, str) and not name.startswith(":"):
                    headers[name] = sample_values(value)[0]
        query = [(name, sample_values(value)[0]) for key in ("query_parameters", "regex_query_parameters")
                 for name, value in entries(spec, key) if isinstance(name, str)]
        method = spec.get("method") if isinstance(spec.get("method"), str) else "GET"
        authority = dict(entries(spec, "headers")).get(":authority")
        hosts = sample_hosts(host if isinstance(host, str) else None) + host_names
        if isinstance(authority, str):
            hosts.append(authority)
        for path in sample_paths(spec):
            for h in hosts:
                requests.append(Request(method=method, host=h, path=path, headers=headers, query=query))
            requests.append(Request(method="GET" if method != "GET" else "POST", host=hosts[0], path=path, headers=headers, query=query))
            for name in headers:
                fewer = {k: v for k, v in headers.items() if k != name}
                requests.append(Request(method=method, host=hosts[0], path=path, headers=fewer, query=query))
                other = dict(headers)
                other[name] = rng.choice(["a", "b", "true", "42", "zzz"])
                requests.append(Request(method=method, host=hosts[0], path=path, headers=other, query=query))
            if query:
                requests.append(Request(method=method, host=hosts[0], path=path, headers=headers))
    if is_edge(documents):
        # Each also as if TLS had been terminated in front (XFP https): the Hosts' secure and insecure actions.
        requests += [Request(method=r.method, host=r.host, path=r.path, query=r.query,
                             headers=dict(r.headers, **{"x-forwarded-proto": "https"})) for r in requests]
    unique = {}
    for request in requests:
        unique.setdefault(request.describe(), request)
    return list(unique.values())


# ---------------------------------------------------------------------------------------------------------------
# Comparison


def describe_shares(shares):
    parts = []
    for outcome, share in sorted(shares.items(), key=lambda item: (-item[1], str(item[0]))):
        if outcome[0] == "route":
            _, upstream, path, host_rewrite, timeout, idle, mirrors, policies = outcome
            text = f"{share}% → {upstream[1]}{' tls' if upstream[2] else ''} {upstream[3:]} path {path}"
            if host_rewrite:
                text += f" host {host_rewrite}"
            text += f" timeout {timeout}ms" + (f" idle {idle}ms" if idle is not None else "")
            if mirrors:
                text += f" mirrors {mirrors}"
            if policies != '{"cors": null, "hash": [], "retry": null, "upgrades": []}':
                text += f" policies {policies}"
        else:
            text = f"{share}% {' '.join(str(x) for x in outcome)}"
        parts.append(text)
    return "; ".join(parts)


MAPPING_NAMED = re.compile(r"\(Mapping ([^/ ]+)/([^) ]+)\)")


def deliberately_different_mappings(notes, diagnostics):
    """The Mappings a documented deliberate difference is about: those Attaché rejects for one, and those sharing
    a cluster in Emissary despite different settings."""
    names = set()
    for line in diagnostics:
        if ": error:" in line and any(words in line for words, _ in DELIBERATE_ATTACHE + DELIBERATE_ATTACHE_REJECTIONS):
            names.update(MAPPING_NAMED.findall(line))
    for note in notes:
        if "is shared by Mappings with different cluster settings" in note:
            names.update(MAPPING_NAMED.findall(note))
    return names


def without_mappings(documents, names):
    """The documents with the Mappings `(namespace, name)` left out (annotation documents included)."""
    def named(doc, namespace_default):
        metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else doc
        return (str(metadata.get("namespace") or namespace_default), str(metadata.get("name")))
    kept = []
    for doc in documents:
        if not isinstance(doc, dict):
            kept.append(doc)
            continue
        if doc.get("kind") == "Mapping" and named(doc, "default") in names:
            continue
        text = ((doc.get("metadata") or {}).get("annotations") or {}).get("getambassador.io/config")
        if isinstance(text, str):
            try:
                inner = list(yaml.safe_load_all(text))
            except yaml.YAMLError:
                inner = None
            if inner is not None:
                owner_namespace = doc["metadata"].get("namespace", "default")
                left = [d for d in inner if not (isinstance(d, dict) and d.get("kind") == "Mapping"
                                                 and named(d, owner_namespace) in names)]
                if len(left) != len(inner):
                    doc = json.loads(json.dumps(doc))
                    doc["metadata"]["annotations"]["getambassador.io/config"] = yaml.safe_dump_all(left, sort_keys=False)
        kept.append(doc)
    return kept


def compare(emissary, attache, documents, rng, workdir, args=(), isolating=False):
    os.makedirs(workdir, exist_ok=True)
    with open(os.path.join(workdir, "input.yaml"), "w") as f:
        yaml.safe_dump_all(documents, f, sort_keys=False)
    if any(isinstance(d, dict) and d.get("kind") == "Rollout" for d in documents):
        # Emissary does not read Rollouts: the Argo controller writes the canary Mappings that Attaché makes itself.
        return [], 0, [], [], None
    emissary_table, emissary_notes, snapshot = emissary.route_table(documents, args)
    with open(os.path.join(workdir, "emissary-snapshot.json"), "w") as f:
        json.dump(snapshot, f, indent=1, sort_keys=True)
    attache_table, attache_diagnostics = attache.route_table(
        workdir, args, edge=is_edge(documents, option_value(args, "--ambassador-id", "default")))
    differences = []
    requests = probes(documents, rng)
    for request in requests:
        expected = emissary_table.evaluate(request)
        got = attache_table.evaluate(request)
        if expected != got:
            differences.append((request, expected, got))
    deliberate = deliberate_difference(emissary_notes, attache_diagnostics) if differences else None
    if deliberate and not isolating:
        # Compare again without the Mappings the deliberate difference is about: the rest must route alike.
        names = deliberately_different_mappings(emissary_notes, attache_diagnostics)
        reduced = without_mappings(documents, names)
        if names and reduced != documents:
            rest = compare(emissary, attache, reduced, random.Random(0), workdir + "-isolated", args, isolating=True)
            if rest[0]:
                return rest[0], len(requests) + rest[1], rest[2], rest[3], None
    return differences, len(requests), emissary_notes, attache_diagnostics, deliberate


# Emissary's words for inputs where Attaché deliberately does otherwise (docs/ROUTING.md, "Deliberate differences"):
# a set whose differences come with one of these is counted apart, not as a failure.
DELIBERATE = [
    ("Total weight of mappings exceeds 100", "weights of a canary group above 100 are rejected, not routed with broken thresholds"),
    ("has invalid weight", "weights of a canary group above 100 are rejected, not routed with broken thresholds"),
    ("found invalid port for service", "a malformed `service` rejects the Mapping (Emissary reports it, then routes to port 80)"),
    ("is shared by Mappings with different cluster settings",
     "Mappings with different cluster settings get clusters of their own (in Emissary the first one's settings win)"),
]


# Attaché's words for the same, where Emissary says nothing (it drops the condition silently).
# Rejections Attaché makes where Emissary routes on, each documented: the harness leaves these Mappings out of a
# second comparison, which must then show no difference at all.
DELIBERATE_ATTACHE_REJECTIONS = [
    ("[GroupWeightsExceed100]", "weights of a canary group above 100"),
    ("[MappingWeightOutOfRange]", "a weight above 100 or below 0"),
    ("[ServiceInvalid]", "a malformed `service`"),
    ("`prefix` is empty", "an empty `prefix` (Emissary matches every path and rewrites it to `//...`)"),
    ("is not a valid RE2 regex", "a regex RE2 or Envoy's program-size limit refuses (Envoy would refuse the whole config)"),
    ("[HeaderNotModifiable]", "a header Envoy may not add or remove (Envoy would refuse the whole config)"),
    ("[HeaderValueInvalid]", "a header value, rewrite or Host Envoy refuses (Envoy would refuse the whole config)"),
    ("[HeaderNameInvalid]", "a header name Envoy refuses (Envoy would refuse the whole config)"),
    ("[DurationOutOfRange]", "a duration Envoy refuses (Envoy would refuse the whole config)"),
    ("[AddressInvalid]", "an address Envoy refuses (Envoy would refuse the whole config)"),
    ("[MappingUnknownField]", "an unknown field (Emissary's API server drops it)"),
    ("[MappingFieldNotImplemented]", "a field Attaché does not build yet"),
    ("cannot both be used: Envoy takes one way", "`auto_host_rewrite` with `host_rewrite` (Envoy would refuse the whole config)"),
    ("a redirect's `service` is the host", "a redirect to a `service` with a scheme"),
    ("a redirect with a regex `host`", "a redirect with a regex host (Emissary drops it silently)"),
    ("which is not in the input or was rejected; the Mapping is refused",
     "a Mapping's `tls` naming a missing or rejected TLSContext (Emissary routes it in cleartext)"),
    ("[SecretMissing]", "a missing Secret rejects what names it (Emissary routes a Mapping's `tls` in cleartext, serves a Host broken)"),
    ("[SecretInvalid]", "an unusable Secret rejects what names it (Emissary serves the Host broken)"),
]

DELIBERATE_ATTACHE = [
    ("is false: Emissary drops such a condition", "a v2 `headers`/`query_parameters` value `false` rejects the Mapping"),
    ("is not a field of getambassador.io/v", "`hostname` in a v2 Mapping rejects it (Emissary drops the field and routes every host)"),
    ("[UnrenderedTemplate]", "unrendered template text (`{{ ... }}`) rejects the Mapping"),
]


def deliberate_difference(notes, diagnostics=()):
    for note in notes:
        for words, why in DELIBERATE:
            if words in note:
                return why
    for line in diagnostics:
        for words, why in DELIBERATE_ATTACHE:
            if words in line:
                return why
        for words, what in DELIBERATE_ATTACHE_REJECTIONS:
            if words in line and ": error:" in line:
                return f"{what} rejects the Mapping"
    return None


def report(label, differences, notes, diagnostics, limit=6):
    print(f"DIFFERENCE in {label}: {len(differences)} probe(s)")
    for request, expected, got in differences[:limit]:
        print(f"  {request.describe()}")
        print(f"    emissary: {describe_shares(expected)}")
        print(f"    attache:  {describe_shares(got)}")
    for note in notes[:8]:
        print(f"  emissary says: {note}")
    for line in diagnostics[:8]:
        print(f"  attache says: {line}")


def compact_route(route):
    match = dict(route["match"])
    fraction = match.pop("runtime_fraction", None)
    path = {k: match.pop(k) for k in ("prefix", "path", "safe_regex") if k in match}
    text = json.dumps(path, sort_keys=True)
    if fraction:
        text += f" r<{envoy_routes.threshold(route['match'])}"
    rest = {k: v for k, v in match.items() if k != "case_sensitive" or v is False}
    if rest:
        text += " " + json.dumps(rest, sort_keys=True)
    action = route.get("route") or route.get("redirect") or route.get("direct_response")
    return text + " -> " + json.dumps({k: v for k, v in action.items() if k != "priority"}, sort_keys=True)


def show(args):
    emissary = Emissary(args.emissary)
    attache = Attache(os.path.abspath(args.attache))
    if os.path.exists(args.what):
        with open(args.what) as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
    else:
        documents = random_set(random.Random(int(args.what)))
    workdir = tempfile.mkdtemp(prefix="emissary-show-")
    with open(os.path.join(workdir, "input.yaml"), "w") as f:
        yaml.safe_dump_all(documents, f, sort_keys=False)
    print(open(os.path.join(workdir, "input.yaml")).read())
    table, notes, _ = emissary.route_table(documents)
    print("== emissary routes (x-forwarded-proto https variants left out)")
    for route in table.routes:
        if any(h.get("name") == "x-forwarded-proto" for h in route["match"].get("headers", [])):
            continue
        print("  " + compact_route(route))
    for note in notes:
        print("  emissary says: " + note)
    table, diagnostics = attache.route_table(workdir)
    print("== attache routes")
    for route in table.routes:
        print("  " + compact_route(route))
    for line in diagnostics:
        print("  attache says: " + line)
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--emissary", required=True, help="Emissary 3.x checkout (its python/ must be importable)")
    parser.add_argument("--attache", required=True, help="attache binary")
    keep = argparse.ArgumentParser(add_help=False)
    keep.add_argument("--keep", help="keep every differing input in this directory")
    sub = parser.add_subparsers(dest="mode", required=True)
    random_mode = sub.add_parser("random", parents=[keep])
    random_mode.add_argument("--sets", type=int, default=100)
    random_mode.add_argument("--seed", type=int, default=1)
    random_mode.add_argument("--edge", action="store_true", help="sets with Listeners and Hosts of their own")
    files_mode = sub.add_parser("files", parents=[keep])
    files_mode.add_argument("paths", nargs="+")
    files_mode.add_argument("--seed", type=int, default=1)
    sub.add_parser("emissary-tests", parents=[keep], help="the Mappings of Emissary's own tests (read from --emissary)")
    show_mode = sub.add_parser("show", help="print one random set (by seed) or file, and both route tables")
    show_mode.add_argument("what", help="a seed printed by `random`, or a file")
    args = parser.parse_args()
    if args.mode == "show":
        return show(args)

    emissary = Emissary(args.emissary)
    attache = Attache(os.path.abspath(args.attache))
    scratch = tempfile.mkdtemp(prefix="emissary-diff-")
    failing = 0
    deliberate_sets = 0
    total_probes = 0
    inputs = []
    if args.mode == "random":
        for number in range(args.sets):
            seed = args.seed * 1_000_003 + number
            if args.edge:
                inputs.append((f"random edge set seed {seed}", random_edge_set(random.Random(seed)), seed, []))
            else:
                inputs.append((f"random set seed {seed}", random_set(random.Random(seed)), seed, []))
    elif args.mode == "emissary-tests":
        import emissary_cases
        for label, documents in emissary_cases.cases(args.emissary):
            inputs.append((label, documents, 1, []))
    else:
        for path in args.paths:
            files = [path] if os.path.isfile(path) else sorted(
                os.path.join(d, n) for d, _, ns in os.walk(path) for n in ns if n.endswith((".yaml", ".yml")))
            for file in files:
                try:
                    with open(file) as f:
                        documents = [d for d in yaml.safe_load_all(f) if d is not None]
                except (yaml.YAMLError, RecursionError, UnicodeDecodeError, ValueError) as error:
                    print(f"skipped {file}: PyYAML cannot read it ({type(error).__name__})")
                    continue
                args_file = os.path.join(os.path.dirname(file), "args")
                options = open(args_file).read().split() if os.path.exists(args_file) else []
                inputs.append((file, documents, args.seed, options))
    for label, documents, seed, options in inputs:
        workdir = os.path.join(scratch, "case")
        shutil.rmtree(workdir, ignore_errors=True)
        try:
            differences, count, notes, diagnostics, deliberate = compare(emissary, attache, documents, random.Random(seed), workdir, options)
        except InputRefused as refusal:
            print(f"skipped {label}: attache refuses the whole input ({refusal})")
            continue
        except Exception as error:  # a crash in either translator is a finding too
            print(f"ERROR in {label}: {type(error).__name__}: {error}")
            failing += 1
            continue
        total_probes += count
        if differences and deliberate:
            deliberate_sets += 1
            print(f"deliberate difference in {label} ({len(differences)} probe(s)): {deliberate}")
        elif differences:
            failing += 1
            report(label, differences, notes, diagnostics)
            if getattr(args, "keep", None):
                target = os.path.join(args.keep, label.replace("/", "_").replace(" ", "-"))
                shutil.rmtree(target, ignore_errors=True)
                shutil.copytree(workdir, target)
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"{len(inputs)} input(s), {total_probes} probe requests, {failing} with differences, "
          f"{deliberate_sets} with documented deliberate differences only")
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
