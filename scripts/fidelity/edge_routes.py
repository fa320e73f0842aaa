"""Prints the listeners, filter chains, virtual hosts and routes Emissary's own translator makes of an input with
Listeners and Hosts (and Secrets), to set beside `attache translate --output` of the same input.

usage: EMISSARY_PYTHON scripts/fidelity/edge_routes.py EMISSARY_ROOT INPUT.yaml

Strict label selectors (Emissary's default): unlike emissary_diff.py, nothing is added to the input.
"""
import json, os, sys, logging, yaml
root = sys.argv[1]
sys.path.insert(0, os.path.join(root, "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
logging.basicConfig(level=logging.CRITICAL)
import go_half
from ambassador.compile import Compile
schemas = go_half.Schemas(root)
docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
k = {"service": [], "Endpoints": [], "EndpointSlice": [], "Listener": [], "Host": [], "Mapping": [], "Module": [],
     "KubernetesEndpointResolver": [], "KubernetesServiceResolver": [], "ConsulResolver": [], "TLSContext": [],
     "secret": [], "annotations": {}}
for d in docs:
    if d["kind"] == "Secret":
        k["secret"].append(d); continue
    conv, why = go_half.to_current_version(d, schemas, from_annotation=False)
    if conv is None: print("drop", why); continue
    k[d["kind"]].append(conv)
logger = logging.getLogger("e"); logger.setLevel(logging.CRITICAL)
# Secrets the input lacks are missing, as in a cluster (Compile's default handler invents any secret asked for).
# (The base SecretHandler, which decodes Secrets into `scratch`; EmptySecretHandler would use the working directory.)
from ambassador.utils import SecretHandler
import tempfile
scratch = tempfile.mkdtemp(prefix="emissary-secrets-")
res = Compile(logger, json.dumps({"Kubernetes": k}), k8s=False,
              secret_handler=SecretHandler(logger, scratch, scratch, "0"))
for rkey, items in res["ir"].aconf.errors.items():
    for it in items: print("ERROR", rkey, it.get("error"))
cfg = res["xds"].as_dict()["static_resources"]
for l in cfg["listeners"]:
    print("LISTENER", l["name"], l["address"]["socket_address"]["port_value"], [f["name"] for f in l.get("listener_filters", [])])
    for c in l["filter_chains"]:
        print(" CHAIN", c.get("name"), c.get("filter_chain_match"))
        tc = c["filters"][0]["typed_config"]
        print("  hcm:", {x: tc.get(x) for x in ("stat_prefix","use_remote_address","xff_num_trusted_hops","normalize_path")})
        for vh in tc.get("route_config", {}).get("virtual_hosts", []):
            print("  VH", vh["name"], vh["domains"])
            for r in vh["routes"]:
                if r["match"].get("prefix", "").startswith("/ambassador/v0/"): continue
                action = ("redirect " + json.dumps(r["redirect"])) if "redirect" in r else r.get("route", {}).get("cluster", r.get("direct_response"))
                print("     ", action, "|", json.dumps(r["match"], sort_keys=True))
