"""What Emissary's Go half does to objects before its Python translator sees them.

Emissary 3.x never hands the Python translator the YAML a user wrote. Its Go side (pkg/snapshot/v1/annotations.go,
pkg/api/getambassador.io/v2/handwritten.conversion.go and the generated conversions) first

- unfolds each getambassador.io/config annotation document (flat fields) into metadata/spec, with the Service's
  namespace and labels as defaults and `ambassador/` read as `getambassador.io/`;
- validates every getambassador.io object against its CRD's OpenAPI schema (a wrong type makes the object invalid:
  it does not exist for routing) and drops fields the schema does not know (the API server prunes CRDs; annotations
  go through typed Go structs);
- converts v2 (and v1) objects to v3alpha1: `host` becomes the glob `hostname` unless `host_regex`, a v2 `headers`
  value `true` becomes `regex_headers: {name: ".*"}`, `false` is dropped; and a v3alpha1 CRD is stored as v2 and
  served back as v3alpha1, which turns its `host` into `hostname` too.

This module reproduces those steps from the CRD schemas of the Emissary checkout, so that the differential harness
feeds Emissary's translator what a cluster would. It is a test tool: it reads the checkout, it is not Emissary code.
"""

import copy
import json
import os

import yaml

AMBASSADOR_GROUP = "getambassador.io/"


class Schemas:
    """OpenAPI schemas of the getambassador.io CRDs, by (apiVersion, kind)."""

    def __init__(self, emissary_root):
        path = os.path.join(emissary_root, "pkg", "api", "getambassador.io", "crds.yaml")
        self.by_type = {}
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if not doc or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc["spec"]
                for version in spec.get("versions", []):
                    schema = (version.get("schema") or {}).get("openAPIV3Schema")
                    if schema:
                        self.by_type[(spec["group"] + "/" + version["name"], spec["names"]["kind"])] = schema

    def schema(self, api_version, kind):
        return self.by_type.get((api_version, kind))


def _type_ok(value, expected):
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        # The Go half decodes into int64 (or narrower) fields: a larger integer makes the object invalid there.
        return isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < (1 << 63)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "object":
        return isinstance(value, dict)
    if expected == "array":
        return isinstance(value, list)
    return True


def validation_errors(value, schema, path="spec"):
    """The schema violations of `value` (types, enums, oneOf), as Kubernetes' schema validator reports them."""
    errors = []
    if value is None:
        return errors  # omitted fields are fine; nullable handling is not needed for generated input
    if "oneOf" in schema:
        if not any(not validation_errors(value, option, path) for option in schema["oneOf"]):
            errors.append(f"{path}: matches none of oneOf")
        return errors
    if schema.get("x-kubernetes-int-or-string"):
        if not (isinstance(value, str) or _type_ok(value, "integer")):
            errors.append(f"{path}: must be an integer or a string")
        return errors
    expected = schema.get("type")
    if expected and not _type_ok(value, expected):
        errors.append(f"{path}: {type(value).__name__} is not {expected}")
        return errors
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} not in enum")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                errors += validation_errors(item, properties[key], f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += validation_errors(item, schema["additionalProperties"], f"{path}.{key}")
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}.{key}: required")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += validation_errors(item, schema["items"], f"{path}[{index}]")
    return errors


def pruned(value, schema):
    """`value` without the fields the schema does not declare (structural pruning)."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        if properties is None and additional is None:
            return value
        out = {}
        for key, item in value.items():
            if properties and key in properties:
                out[key] = pruned(item, properties[key])
            elif isinstance(additional, dict):
                out[key] = pruned(item, additional)
            elif additional is True:
                out[key] = item
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [pruned(item, schema["items"]) for item in value]
    return value


def convert_mapping_v2_to_v3(spec):
    """Convert_v2_MappingSpec_To_v3alpha1_MappingSpec for the fields the harness generates."""
    out = {}
    for key, value in spec.items():
        if key == "host":
            out["hostname"] = value
        elif key == "v3health_checks":
            out["health_checks"] = value
        elif key == "v3StatsName":
            out["stats_name"] = value
        elif key in ("headers", "query_parameters"):
            continue
        else:
            out[key] = value
    for plain, regex in (("headers", "regex_headers"), ("query_parameters", "regex_query_parameters")):
        for name, value in (spec.get(plain) or {}).items():
            if isinstance(value, str):
                out.setdefault(plain, {})[name] = value
            elif value is True:
                out.setdefault(regex, {})
                out[regex].setdefault(name, ".*")
            # false: dropped, as the Go conversion does
    if out.get("host_regex"):
        regex = out.pop("hostname", "")
        if regex:  # an empty string is omitted when Go marshals the object
            out["host"] = regex
    elif not out.get("hostname"):
        out["hostname"] = "*"
    elif out["hostname"] == "_skip_mapping_with_empty_host_":
        out.pop("hostname")
    return out


def roundtrip_mapping_v3_through_v2(spec):
    """A v3alpha1 Mapping CRD as Emissary reads it: stored as v2, served as v3alpha1."""
    out = dict(spec)
    host, hostname, host_regex = out.pop("host", ""), out.pop("hostname", ""), out.get("host_regex")
    if hostname:
        if host_regex is not None:
            out["host_regex"] = False
        v2_host = hostname
    elif not host and not host_regex:
        v2_host = "_skip_mapping_with_empty_host_"
    else:
        v2_host = host
    if not out.get("host_regex") and v2_host == "*":
        v2_host = ""
    if v2_host:
        out["host"] = v2_host
    # headers are strings in v3alpha1 (the schema refused anything else), so v2 holds them as strings
    return convert_mapping_v2_to_v3(out)


def unfold_annotation_document(doc, owner):
    """ParseAnnotationResources: a flat annotation document → a Kubernetes-shaped object."""
    obj = {"apiVersion": doc.get("apiVersion") if isinstance(doc.get("apiVersion"), str) else ""}
    metadata = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    for key, value in doc.items():
        if key in ("apiVersion", "metadata", "spec", "status"):
            continue
        if key == "kind":
            obj["kind"] = value
        elif key in ("name", "namespace", "generation"):
            metadata[key] = value
        elif key == "metadata_labels":
            metadata["labels"] = value
        else:
            spec[key] = value
    if not isinstance(metadata.get("namespace"), str) or not metadata.get("namespace"):
        metadata["namespace"] = owner["metadata"].get("namespace", "default")
    if metadata.get("labels") is None and owner["metadata"].get("labels") is not None:
        metadata["labels"] = owner["metadata"]["labels"]
    obj["metadata"] = metadata
    obj["spec"] = spec
    if obj["apiVersion"].startswith("ambassador/"):
        obj["apiVersion"] = AMBASSADOR_GROUP + obj["apiVersion"][len("ambassador/"):]
    return obj


# Attaché reads `ambassador/v0` annotations as v2 (Emissary 3 refuses v0): a documented deliberate difference,
# so the harness gives Emissary the v2 reading.
ATTACHE_VERSION_ALIASES = {"getambassador.io/v0": "getambassador.io/v2"}


def to_current_version(obj, schemas, from_annotation):
    """ValidateAndConvertObject (annotations) or the API server plus conversion (CRDs): the object Emissary's Python
    side reads, or (None, reason) when Emissary would not have it."""
    obj = copy.deepcopy(obj)
    obj["apiVersion"] = ATTACHE_VERSION_ALIASES.get(obj.get("apiVersion"), obj.get("apiVersion"))
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    schema = schemas.schema(api_version, kind)
    if schema is None:
        return None, f"unsupported GroupVersionKind {api_version} {kind}"
    spec_schema = schema.get("properties", {}).get("spec", {})
    problems = validation_errors(obj.get("spec"), spec_schema)
    if problems:
        return None, "; ".join(problems)
    obj["spec"] = pruned(obj.get("spec") or {}, spec_schema)
    if isinstance(obj["spec"].get("ambassador_id"), str):
        obj["spec"]["ambassador_id"] = [obj["spec"]["ambassador_id"]]  # v2's StringOrStringList → v3alpha1's list
    version = api_version[len(AMBASSADOR_GROUP):]
    obj["apiVersion"] = AMBASSADOR_GROUP + "v3alpha1"
    if kind == "Mapping":
        if version in ("v1", "v2"):
            obj["spec"] = convert_mapping_v2_to_v3(obj["spec"])
        elif version == "v3alpha1" and not from_annotation:
            obj["spec"] = roundtrip_mapping_v3_through_v2(obj["spec"])
    # Go marshals maps with sorted keys: that is the order the Python side iterates headers in.
    obj = json.loads(json.dumps(obj, sort_keys=True))
    return obj, None


# Attaché's documented default without Hosts: a v3alpha1 Mapping that names no host at all (no `hostname`, `host` or
# exact `:authority` header) routes for every host, with no `:authority` condition. Emissary routes such a Mapping
# only through a Host whose mappingSelector matches its labels, so the harness labels these Mappings and gives its
# Host that selector (with DISABLE_STRICT_LABEL_SELECTORS, a Host then takes Mappings by hostname *or* selector).
NO_HOST_LABEL = ("attache-diff-no-host", "yes")


def names_no_host(spec):
    if spec.get("hostname") or spec.get("host"):
        return False
    authority = {k.lower(): v for k, v in (spec.get("headers") or {}).items()}.get(":authority")
    return not isinstance(authority, str)


WATT_KEYS = {
    ("v1", "Service"): "service",
    ("v1", "Endpoints"): "Endpoints",
    ("discovery.k8s.io/v1", "EndpointSlice"): "EndpointSlice",
    ("v1", "Secret"): "secret",
}


def watt_snapshot(documents, schemas, listener_port=8080, ambassador_id="default", edge=False):
    """The Kubernetes objects of Attaché's input → the snapshot Emissary's Go side hands to its Python side, with
    one plain-HTTP Listener and a Host `*` (routing every Mapping, as Attaché does without Hosts) — unless `edge`:
    the input has Listeners and Hosts of its own, and is handed over as it is.

    Returns (snapshot, notes): notes say which objects Emissary would not have had and why."""
    kubernetes = {"service": [], "Endpoints": [], "EndpointSlice": [], "Listener": [], "Host": [], "Mapping": [],
                  "Module": [], "KubernetesEndpointResolver": [], "KubernetesServiceResolver": [],
                  "ConsulResolver": [], "TLSContext": [], "secret": [], "annotations": {}}
    notes = []
    objects = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        if doc.get("kind") == "List" or (str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list)):
            objects += [item for item in doc.get("items", []) if isinstance(item, dict)]
        else:
            objects.append(doc)
    for obj in objects:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        metadata = obj.setdefault("metadata", {}) if isinstance(obj.get("metadata"), dict) else None
        if metadata is None or not metadata.get("name"):
            continue
        metadata.setdefault("namespace", "default")
        key = WATT_KEYS.get((api_version, kind))
        if key:
            kubernetes[key].append(obj)
            if kind == "Service":
                text = (metadata.get("annotations") or {}).get("getambassador.io/config")
                if isinstance(text, str):
                    annotated = []
                    try:
                        docs = list(yaml.safe_load_all(text))
                    except yaml.YAMLError as error:
                        notes.append(f"annotation of Service {metadata['name']}: not YAML ({error})")
                        docs = []
                    for inner in docs:
                        if not isinstance(inner, dict):
                            continue
                        unfolded = unfold_annotation_document(inner, obj)
                        converted, why = to_current_version(unfolded, schemas, from_annotation=True)
                        if converted is None:
                            notes.append(f"annotation {unfolded.get('kind')} {unfolded['metadata'].get('name')}: {why}")
                            continue
                        annotated.append(converted if edge else label_if_no_host(converted))
                    if annotated:
                        kubernetes["annotations"][f"Service/{metadata['name']}.{metadata['namespace']}"] = annotated
            continue
        if isinstance(api_version, str) and api_version.startswith(AMBASSADOR_GROUP) and kind in kubernetes:
            converted, why = to_current_version(obj, schemas, from_annotation=False)
            if converted is None:
                notes.append(f"{kind} {metadata['name']}: {why}")
                continue
            kubernetes[kind].append(converted if edge else label_if_no_host(converted))
    if edge:
        if not kubernetes["Listener"]:
            # Hosts without Listeners: Attaché listens as Emissary's Helm chart installs it (docs/ROUTING.md §8b).
            for name, port, protocol in (("ambassador-http-listener", 8080, "HTTP"),
                                         ("ambassador-https-listener", 8443, "HTTPS")):
                kubernetes["Listener"].append({
                    "apiVersion": "getambassador.io/v3alpha1", "kind": "Listener",
                    "metadata": {"name": name, "namespace": "default"},
                    "spec": {"ambassador_id": [ambassador_id], "port": port, "protocol": protocol,
                             "securityModel": "XFP", "hostBinding": {"namespace": {"from": "ALL"}}}})
            notes.append("no Listener in the input: Emissary given the Helm chart's two, as Attaché assumes")
        return {"Kubernetes": kubernetes}, notes
    kubernetes["Listener"].append({
        "apiVersion": "getambassador.io/v3alpha1", "kind": "Listener",
        "metadata": {"name": "attache-diff-http", "namespace": "default"},
        "spec": {"ambassador_id": [ambassador_id], "port": listener_port, "protocol": "HTTP", "securityModel": "XFP",
                 "hostBinding": {"namespace": {"from": "ALL"}}}})
    kubernetes["Host"].append({
        "apiVersion": "getambassador.io/v3alpha1", "kind": "Host",
        "metadata": {"name": "attache-diff-any", "namespace": "default"},
        "spec": {"ambassador_id": [ambassador_id], "hostname": "*", "requestPolicy": {"insecure": {"action": "Route"}},
                 "mappingSelector": {"matchLabels": {NO_HOST_LABEL[0]: NO_HOST_LABEL[1]}}}})
    return {"Kubernetes": kubernetes}, notes


def label_if_no_host(obj):
    if obj.get("kind") == "Mapping" and names_no_host(obj.get("spec") or {}):
        labels = obj["metadata"].setdefault("labels", {}) or {}
        labels[NO_HOST_LABEL[0]] = NO_HOST_LABEL[1]
        obj["metadata"]["labels"] = labels
    return obj
