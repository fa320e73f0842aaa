"""Inputs taken from Emissary's own tests, read from an Emissary checkout at run time (nothing of it is copied here).

- python/tests/kat, python/tests/unit, python/tests/integration: YAML in Python strings. Format placeholders
  (`{self.target.path.fqdn}`) become stable tokens (`target-path-fqdn`); each test class is one case; flat documents
  (annotation style) are put in the getambassador.io/config annotation of a Service, as kat does.
- cmd/entrypoint/testdata, python/tests/unit/testdata, docs/yaml: YAML files, one case each.

Only what Attaché implements is kept: Mappings whose fields are all implemented (other Mappings are left out of the
case), the ambassador Module, resolvers, Services, Endpoints, Hosts, Listeners, TLSContexts and Secrets (a case with
Hosts or Listeners of its installation is compared per virtual host, as `random --edge` sets are; without, the
harness adds its own Listener and Host `*`). The other kinds are dropped.
"""

import os
import re

import yaml

# The Mapping fields Attaché implements (Sources/Attache/Ambassador/MappingDecoder.swift), plus bookkeeping.
IMPLEMENTED_FIELDS = {
    "apiVersion", "kind", "name", "namespace", "metadata", "metadata_labels", "ambassador_id", "ambassadorId",
    "generation", "prefix", "prefix_regex", "prefix_exact", "rewrite", "service", "weight", "headers",
    "regex_headers", "query_parameters", "regex_query_parameters", "host", "host_regex", "hostname", "method",
    "method_regex", "precedence", "case_sensitive", "timeout_ms", "idle_timeout_ms", "connect_timeout_ms",
    "host_rewrite", "add_request_headers", "add_response_headers", "remove_request_headers",
    "remove_response_headers", "resolver", "docs",
    # Issue 18's fields and the auth ones (policyFields in MappingDecoder.swift), and fields Attaché ignores as
    # they change nothing it builds (ignoredFields there).
    "grpc", "dns_type", "respect_dns_ttl", "enable_ipv4", "enable_ipv6", "cluster_idle_timeout_ms",
    "cluster_max_connection_lifetime_ms", "keepalive", "circuit_breakers", "add_linkerd_headers", "allow_upgrade",
    "auto_host_rewrite", "cors", "host_redirect", "load_balancer", "path_redirect", "prefix_redirect",
    "redirect_response_code", "regex_redirect", "regex_rewrite", "retry_policy", "shadow", "use_websocket",
    "bypass_auth", "auth_context_extensions", "tls", "bypass_error_response_overrides", "cluster_tag", "labels",
    "outlier_detection", "priority", "rate_limits", "stats_name", "v3StatsName",
}
KEPT_KINDS = {"Mapping", "Module", "KubernetesEndpointResolver", "KubernetesServiceResolver", "Service", "Endpoints",
              "Host", "Listener", "TLSContext", "Secret"}

PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _token(expression):
    expression = expression.strip().replace("self.", "")
    return re.sub(r"[^a-z0-9]+", "-", expression.lower()).strip("-") or "x"


def _substitute(text):
    text = text.replace("{{", "\x00").replace("}}", "\x01")
    text = PLACEHOLDER.sub(lambda m: _token(m.group(1)), text)
    return text.replace("\x00", "{").replace("\x01", "}")


def _mapping_fields(doc):
    if isinstance(doc.get("spec"), dict):
        return set(doc["spec"].keys())
    return set(doc.keys()) - {"apiVersion", "kind", "metadata"}


def _keep(doc):
    if not isinstance(doc, dict) or doc.get("kind") not in KEPT_KINDS:
        return False
    if doc.get("kind") == "Mapping":
        return _mapping_fields(doc) <= IMPLEMENTED_FIELDS
    if doc.get("kind") == "Service":
        return doc.get("apiVersion") == "v1"
    return True


def _filtered_annotation(service):
    """A Service whose annotation keeps only documents Attaché implements (None when nothing is left)."""
    annotations = (service.get("metadata") or {}).get("annotations") or {}
    text = annotations.get("getambassador.io/config")
    if not isinstance(text, str):
        return service
    try:
        inner = [d for d in yaml.safe_load_all(text) if _keep(d) and d.get("kind") != "Service"]
    except yaml.YAMLError:
        return None
    annotations["getambassador.io/config"] = yaml.safe_dump_all(inner, sort_keys=False) if inner else ""
    return service


def _case_from_documents(documents, label):
    kept = []
    flat = []
    for doc in documents:
        if not _keep(doc):
            continue
        if doc.get("kind") == "Service":
            doc = _filtered_annotation(doc)
            if doc is not None:
                kept.append(doc)
        elif "metadata" not in doc and "name" in doc:
            flat.append(doc)  # an annotation document
        else:
            kept.append(doc)
    if flat:
        kept.append({"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "kat-" + _token(label)[:40], "namespace": "default",
                                  "annotations": {"getambassador.io/config": yaml.safe_dump_all(flat, sort_keys=False)}},
                     "spec": {"ports": [{"port": 80}]}})
    text = yaml.safe_dump_all(kept)
    if "kind: Mapping" not in text and "Mapping\n" not in text:
        return None
    return (label, kept)


def _python_cases(path, relative):
    with open(path) as f:
        source = f.read()
    cases = []
    parts = re.split(r"^class (\w+)", source, flags=re.MULTILINE)
    for index in range(1, len(parts), 2):
        name, body = parts[index], parts[index + 1]
        documents = []
        for block in re.findall(r'"""(.*?)"""', body, flags=re.DOTALL):
            if "kind:" not in block:
                continue
            try:
                documents += [d for d in yaml.safe_load_all(_substitute(block)) if d is not None]
            except yaml.YAMLError:
                continue
        case = _case_from_documents(documents, f"{relative}:{name}")
        if case:
            cases.append(case)
    return cases


def _yaml_case(path, relative):
    try:
        with open(path) as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return []
    items = []
    for doc in documents:
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            items += doc["items"]
        else:
            items.append(doc)
    case = _case_from_documents(items, relative)
    return [case] if case else []


def cases(root):
    """(label, documents) for every usable case in the Emissary checkout at `root`, in a stable order."""
    found = []
    for folder in ("python/tests/kat", "python/tests/unit", "python/tests/integration"):
        base = os.path.join(root, folder)
        for directory, _, names in sorted(os.walk(base)):
            for name in sorted(names):
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    found += _python_cases(path, os.path.relpath(path, root))
    for folder in ("cmd/entrypoint/testdata", "python/tests/unit/testdata", "docs/yaml"):
        base = os.path.join(root, folder)
        for directory, _, names in sorted(os.walk(base)):
            for name in sorted(names):
                if name.endswith((".yaml", ".yml")):
                    path = os.path.join(directory, name)
                    found += _yaml_case(path, os.path.relpath(path, root))
    return found
