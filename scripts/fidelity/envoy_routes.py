"""Where Envoy sends a request, read from an Envoy v3 route table and its clusters.

Both sides of the differential harness are judged by this one evaluator, so that a difference it reports is a
difference in what Envoy would do, not in how the JSON is written. It follows Envoy's route matching for the parts
Attaché and Emissary emit: the first route whose path, header, query-parameter and runtime-fraction conditions all
hold wins; one random number r in 0..99 is drawn per request and a route with `runtime_fraction` N/100 holds when
r < N. Regexes are matched with Python's `re` (the harness only generates patterns on which it agrees with RE2).
"""

import re
from collections import Counter


class Request:
    def __init__(self, method="GET", host="www.example.com", path="/", headers=None, query=None):
        self.method = method
        self.host = host
        self.path = path
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.query = list(query or [])
        # Plain HTTP on the listener: Envoy sets x-forwarded-proto to http.
        self.headers.setdefault("x-forwarded-proto", "http")

    def header(self, name):
        name = name.lower()
        if name == ":authority":
            return self.host
        if name == ":method":
            return self.method
        if name == ":path":
            return self.path_with_query()
        return self.headers.get(name)

    def query_value(self, name):
        for key, value in self.query:
            if key == name:
                return value
        return None

    def path_with_query(self):
        if not self.query:
            return self.path
        return self.path + "?" + "&".join(f"{k}={v}" if v != "" else k for k, v in self.query)

    def describe(self):
        parts = [self.method, f"http://{self.host}{self.path_with_query()}"]
        parts += [f"-H '{k}: {v}'" for k, v in sorted(self.headers.items()) if k != "x-forwarded-proto"]
        return " ".join(parts)


_regex_cache = {}


def full_match(pattern, text):
    compiled = _regex_cache.get(pattern)
    if compiled is None:
        try:
            compiled = re.compile(pattern)
        except re.error:
            compiled = False
        _regex_cache[pattern] = compiled
    return bool(compiled) and compiled.fullmatch(text) is not None


def _regex_of(matcher):
    value = matcher.get("regex") if isinstance(matcher, dict) else None
    return value


def string_matches(string_match, value, host_header):
    """envoy.type.matcher.v3.StringMatcher. `:authority` comparisons ignore case for both sides: Attaché's
    documented deliberate difference (host names are case-insensitive), applied to Emissary's matchers too, so
    that it is not reported; probe hosts are lowercase."""
    ignore = string_match.get("ignore_case", False) or host_header
    def fold(s):
        return s.lower() if ignore else s
    if "exact" in string_match:
        return fold(value) == fold(string_match["exact"])
    if "prefix" in string_match:
        return fold(value).startswith(fold(string_match["prefix"]))
    if "suffix" in string_match:
        return fold(value).endswith(fold(string_match["suffix"]))
    if "contains" in string_match:
        return fold(string_match["contains"]) in fold(value)
    if "safe_regex" in string_match:
        return full_match(_regex_of(string_match["safe_regex"]), value)
    raise ValueError(f"unknown string matcher {string_match}")


def header_matches(matcher, request):
    name = matcher["name"]
    value = request.header(name)
    host = name.lower() == ":authority"
    invert = matcher.get("invert_match", False)
    if "present_match" in matcher:
        result = (value is not None) == bool(matcher["present_match"])
    elif value is None:
        result = False
    elif "string_match" in matcher:
        result = string_matches(matcher["string_match"], value, host)
    elif "exact_match" in matcher:
        result = string_matches({"exact": matcher["exact_match"]}, value, host)
    elif "prefix_match" in matcher:
        result = string_matches({"prefix": matcher["prefix_match"]}, value, host)
    elif "suffix_match" in matcher:
        result = string_matches({"suffix": matcher["suffix_match"]}, value, host)
    elif "safe_regex_match" in matcher:
        result = full_match(_regex_of(matcher["safe_regex_match"]), value)
    else:
        result = value is not None  # a matcher with only a name: the header is present
    return result != invert


def query_matches(matcher, request):
    value = request.query_value(matcher["name"])
    if matcher.get("present_match"):
        return value is not None
    if value is None:
        return False
    if "string_match" in matcher:
        return string_matches(matcher["string_match"], value, False)
    return True


def path_matches(match, request):
    path = request.path
    sensitive = match.get("case_sensitive", True)
    if "prefix" in match:
        return path.startswith(match["prefix"]) if sensitive else path.lower().startswith(match["prefix"].lower())
    if "path" in match:
        return path == match["path"] if sensitive else path.lower() == match["path"].lower()
    if "safe_regex" in match:
        # Envoy applies case_sensitive to prefix and path only; a regex is matched as written.
        return full_match(_regex_of(match["safe_regex"]), path)
    raise ValueError(f"unknown path match {match}")


def threshold(match):
    fraction = match.get("runtime_fraction")
    if not fraction:
        return 100
    default = fraction.get("default_value", {})
    numerator = int(default.get("numerator", 0))
    denominator = {"HUNDRED": 100, "TEN_THOUSAND": 10000, "MILLION": 1000000}[default.get("denominator", "HUNDRED")]
    return numerator * 100 / denominator


def _duration_ms(text):
    if text is None:
        return None
    return round(float(str(text).rstrip("s")) * 1000)


class RouteTable:
    """One virtual host's routes (in order) and the upstream each cluster name stands for."""

    def __init__(self, routes, upstreams, default_timeout_ms=15000):
        self.routes = routes
        self.upstreams = upstreams
        self.default_timeout_ms = default_timeout_ms

    def outcome(self, route, request):
        if "redirect" in route:
            return ("redirect", _canonical_redirect(route["redirect"]))
        if "direct_response" in route:
            return ("direct", route["direct_response"].get("status"))
        action = route["route"]
        match = route["match"]
        path = request.path
        regex_rewrite = action.get("regex_rewrite")
        rewrite = action.get("prefix_rewrite")
        if regex_rewrite:
            path = _regex_substitute(regex_rewrite, path)
        elif rewrite is not None and rewrite != "":
            if "prefix" in match:
                path = rewrite + path[len(match["prefix"]):]
            else:
                path = rewrite
        if request.query:
            path += "?" + request.path_with_query().split("?", 1)[1]
        cluster = action.get("cluster")
        upstream = self.upstreams.get(cluster, ("unknown-cluster", cluster))
        timeout = _duration_ms(action.get("timeout"))
        host = action.get("host_rewrite_literal")
        if action.get("auto_host_rewrite"):
            host = ("auto", upstream)
        mirrors = tuple(
            (self.upstreams.get(m.get("cluster"), ("unknown-cluster", m.get("cluster"))),
             threshold({"runtime_fraction": m["runtime_fraction"]}) if "runtime_fraction" in m else 100)
            for m in action.get("request_mirror_policies", []))
        policies = _canonical({
            "retry": action.get("retry_policy"),
            "upgrades": sorted(u.get("upgrade_type", "").lower() for u in action.get("upgrade_configs", [])),
            "hash": [_canonical_hash(h) for h in action.get("hash_policy", [])],
            "cors": _canonical_cors(route, action),
        })
        return ("route", upstream, path, host,
                timeout if timeout is not None else self.default_timeout_ms, _duration_ms(action.get("idle_timeout")),
                mirrors, policies)

    def evaluate(self, request):
        """Outcome → share (out of 100) over Envoy's random draw; 'not found' where no route takes it."""
        shares = Counter()
        candidates = []
        for route in self.routes:
            match = route["match"]
            if not path_matches(match, request):
                continue
            if not all(header_matches(h, request) for h in match.get("headers", [])):
                continue
            if not all(query_matches(q, request) for q in match.get("query_parameters", [])):
                continue
            candidates.append((threshold(match), route))
        for r in range(100):
            for limit, route in candidates:
                if r < limit:
                    shares[self.outcome(route, request)] += 1
                    break
            else:
                shares[("not found",)] += 1
        return shares


def _canonical(value):
    """A JSON-like value as a hashable, order-independent text."""
    import json
    return json.dumps(value, sort_keys=True)


_REDIRECT_CODES = {0: 301, 1: 302, 2: 303, 3: 307, 4: 308, "MOVED_PERMANENTLY": 301, "FOUND": 302,
                   "SEE_OTHER": 303, "TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308}


def _canonical_redirect(redirect):
    """Emissary writes the response code as the enum's number, Attaché as its name; both mean the same."""
    value = dict(redirect)
    value["response_code"] = _REDIRECT_CODES.get(value.get("response_code", 0), value.get("response_code"))
    if "regex_rewrite" in value:
        rewrite = value["regex_rewrite"]
        value["regex_rewrite"] = {"pattern": _regex_of(rewrite.get("pattern", {})), "substitution": rewrite.get("substitution")}
    return _canonical(value)


def _regex_substitute(rewrite, path):
    pattern = _regex_of(rewrite.get("pattern", {})) or ""
    substitution = re.sub(r"\\(\d)", r"\\g<\1>", rewrite.get("substitution", ""))
    try:
        return re.sub(pattern, substitution, path)
    except (re.error, IndexError):
        return f"<regex rewrite {pattern!r} Python cannot apply>"


def _canonical_hash(policy):
    if "header" in policy:
        return {"header": policy["header"].get("header_name", "").lower()}
    return policy


def _canonical_cors(route, action):
    """Emissary writes the route's deprecated `cors`, Attaché the CORS filter's per-route config: the same policy."""
    cors = action.get("cors") or (route.get("typed_per_filter_config") or {}).get("envoy.filters.http.cors")
    if not cors:
        return None
    keys = ["allow_origin_string_match", "allow_methods", "allow_headers", "expose_headers", "max_age",
            "allow_credentials"]
    return {k: cors[k] for k in keys if k in cors}


def upstream_of_cluster(cluster):
    """What a cluster sends traffic to, independent of its name: the DNS name or addresses and ports it resolves,
    or, for endpoint discovery, the endpoint set's name (k8s/<ns>/<svc>/<port>), and whether it speaks TLS."""
    tls = "transport_socket" in cluster
    kind = cluster.get("type", "STATIC")
    # How traffic is spread and spoken: Emissary writes ROUND_ROBIN and HTTP/2 in its own (older) forms.
    http2 = "http2_protocol_options" in cluster or "typed_extension_protocol_options" in cluster
    policy = (cluster.get("lb_policy") or "ROUND_ROBIN", http2)
    if kind == "EDS":
        return ("eds", cluster.get("eds_cluster_config", {}).get("service_name") or cluster["name"], tls, policy)
    name = cluster.get("name", "")
    if name.startswith("k8s/"):
        # Attaché's endpoint clusters carry their members inline; the set's identity is the name's first four parts.
        parts = name.split("/")
        port = re.match(r"[0-9]+", parts[3]).group(0) if len(parts) > 3 and re.match(r"[0-9]+", parts[3]) else ""
        return ("eds", "/".join(parts[:3] + [port]), tls, policy)
    addresses = []
    for locality in cluster.get("load_assignment", {}).get("endpoints", []):
        for endpoint in locality.get("lb_endpoints", []):
            socket = endpoint["endpoint"]["address"]["socket_address"]
            addresses.append((socket["address"], socket.get("port_value")))
    return ("addresses", tuple(sorted(addresses)), tls, policy)
