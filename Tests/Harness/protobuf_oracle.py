#!/usr/bin/env python3
"""Reads each DIR/<name>.json and DIR/<name>.pb (a DiscoveryResponse Attaché rendered, and its binary twin) with
Google's protobuf library and Envoy's API (the `xds-protos` package), and checks both hold the same message (as
the protobuf library prints it, `Any` payloads unpacked). Used by ProtobufTranscoderTests:

    python protobuf_oracle.py DIR
"""
import importlib
import json
import os
import sys

from google.protobuf import json_format

# The modules that register every message type an Attaché file names in an `@type`.
for module in [
    "envoy.service.discovery.v3.discovery_pb2", "envoy.config.listener.v3.listener_pb2",
    "envoy.config.cluster.v3.cluster_pb2", "envoy.config.route.v3.route_pb2", "envoy.config.endpoint.v3.endpoint_pb2",
    "envoy.service.runtime.v3.rtds_pb2",
    "envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2",
    "envoy.extensions.filters.http.router.v3.router_pb2", "envoy.extensions.transport_sockets.tls.v3.tls_pb2",
    "envoy.extensions.transport_sockets.tls.v3.secret_pb2",
    "envoy.extensions.upstreams.http.v3.http_protocol_options_pb2", "envoy.extensions.filters.http.cors.v3.cors_pb2",
    "envoy.extensions.filters.listener.proxy_protocol.v3.proxy_protocol_pb2",
    "envoy.extensions.filters.listener.tls_inspector.v3.tls_inspector_pb2",
    "envoy.extensions.filters.http.ext_authz.v3.ext_authz_pb2", "envoy.extensions.access_loggers.file.v3.file_pb2",
]:
    importlib.import_module(module)
from envoy.service.discovery.v3.discovery_pb2 import DiscoveryResponse  # noqa: E402


def readable(message):
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def main():
    directory = sys.argv[1]
    stems = sorted(name[:-5] for name in os.listdir(directory) if name.endswith(".json"))
    differences = 0
    for stem in stems:
        from_json, from_binary = DiscoveryResponse(), DiscoveryResponse()
        with open(os.path.join(directory, stem + ".json")) as f:
            json_format.Parse(f.read(), from_json)
        with open(os.path.join(directory, stem + ".pb"), "rb") as f:
            from_binary.ParseFromString(f.read())
        a, b = readable(from_json), readable(from_binary)
        if a != b:
            differences += 1
            print(f"{stem}: the binary file holds another message\n  json:   {json.dumps(a)[:1500]}\n"
                  f"  binary: {json.dumps(b)[:1500]}")
    if differences:
        print(f"{differences} of {len(stems)} files differ")
        return 1
    print(f"{len(stems)} files: the same message in both forms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
