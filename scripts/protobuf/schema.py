#!/usr/bin/env python3
"""Writes Sources/Attache/Protobuf/EnvoySchema.swift: the field numbers, wire types and enum values of every
protobuf message Attaché's xDS files can contain, so that ProtobufTranscoder can turn the JSON it renders into the
binary DiscoveryResponse Envoy reads fastest. A developer tool, run by hand when Envoy's API or Attaché's output
grows a message type (the transcoder refuses a field it has no number for, and the fixture test finds it):

    .build/protobuf-venv/bin/python scripts/protobuf/schema.py > Sources/Attache/Protobuf/EnvoySchema.swift

(scripts/test installs that venv: scripts/lib/setup.sh, ensure_protobuf_oracle.)

The descriptors come from the `xds-protos` package (Envoy's data-plane API compiled by the gRPC project). The
roots are the DiscoveryResponse of each xDS file and every `@type` Attaché writes into an `Any`.
"""
import importlib
import sys

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import FieldDescriptor as F

MODULES = [
    "envoy.service.discovery.v3.discovery_pb2",
    "envoy.config.listener.v3.listener_pb2",
    "envoy.config.cluster.v3.cluster_pb2",
    "envoy.config.route.v3.route_pb2",
    "envoy.config.endpoint.v3.endpoint_pb2",
    "envoy.service.runtime.v3.rtds_pb2",
    "envoy.extensions.filters.network.http_connection_manager.v3.http_connection_manager_pb2",
    "envoy.extensions.filters.http.router.v3.router_pb2",
    "envoy.extensions.transport_sockets.tls.v3.tls_pb2",
    "envoy.extensions.transport_sockets.tls.v3.secret_pb2",
    "envoy.extensions.upstreams.http.v3.http_protocol_options_pb2",
    "envoy.extensions.filters.http.cors.v3.cors_pb2",
    "envoy.extensions.filters.listener.proxy_protocol.v3.proxy_protocol_pb2",
    "envoy.extensions.filters.listener.tls_inspector.v3.tls_inspector_pb2",
    "envoy.extensions.filters.http.ext_authz.v3.ext_authz_pb2",
    "envoy.extensions.access_loggers.file.v3.file_pb2",
]
ROOTS = [
    "envoy.service.discovery.v3.DiscoveryResponse",
    "envoy.config.listener.v3.Listener",
    "envoy.config.cluster.v3.Cluster",
    "envoy.config.route.v3.RouteConfiguration",
    "envoy.config.endpoint.v3.ClusterLoadAssignment",
    "envoy.service.runtime.v3.Runtime",
    "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    "envoy.extensions.filters.http.router.v3.Router",
    "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
    "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
    "envoy.extensions.transport_sockets.tls.v3.Secret",
    "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
    "envoy.extensions.filters.http.cors.v3.Cors",
    "envoy.extensions.filters.http.cors.v3.CorsPolicy",
    "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol",
    "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
    "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
    "envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute",
    "envoy.extensions.access_loggers.file.v3.FileAccessLog",
]
# Messages whose JSON form is not an object of their fields (proto3 JSON mapping): the transcoder knows them by name.
SPECIAL = {
    "google.protobuf.Any", "google.protobuf.Duration", "google.protobuf.Timestamp", "google.protobuf.Struct",
    "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.DoubleValue", "google.protobuf.FloatValue",
    "google.protobuf.Int64Value", "google.protobuf.UInt64Value", "google.protobuf.Int32Value",
    "google.protobuf.UInt32Value", "google.protobuf.BoolValue", "google.protobuf.StringValue",
    "google.protobuf.BytesValue", "google.protobuf.FieldMask", "google.protobuf.Empty",
}
KINDS = {
    F.TYPE_DOUBLE: "double", F.TYPE_FLOAT: "float", F.TYPE_INT64: "int64", F.TYPE_UINT64: "uint64",
    F.TYPE_INT32: "int32", F.TYPE_FIXED64: "fixed64", F.TYPE_FIXED32: "fixed32", F.TYPE_BOOL: "bool",
    F.TYPE_STRING: "string", F.TYPE_BYTES: "bytes", F.TYPE_UINT32: "uint32", F.TYPE_SFIXED32: "sfixed32",
    F.TYPE_SFIXED64: "sfixed64", F.TYPE_SINT32: "sint32", F.TYPE_SINT64: "sint64",
}


def main():
    for module in MODULES:
        importlib.import_module(module)
    pool = descriptor_pool.Default()
    messages, enums = {}, {}
    pending = [pool.FindMessageTypeByName(name) for name in ROOTS]
    while pending:
        message = pending.pop()
        if message.full_name in messages or message.full_name in SPECIAL:
            continue
        messages[message.full_name] = message
        for field in message.fields:
            if field.type == F.TYPE_MESSAGE:
                pending.append(field.message_type)
            elif field.type == F.TYPE_ENUM:
                enums[field.enum_type.full_name] = field.enum_type
    lines = []
    for name in sorted(messages):
        message = messages[name]
        lines.append(f"M {name}" + (" map" if message.GetOptions().map_entry else ""))
        for field in sorted(message.fields, key=lambda f: f.number):
            repeated = field.is_repeated
            if field.type == F.TYPE_MESSAGE:
                kind = "message " + field.message_type.full_name
            elif field.type == F.TYPE_ENUM:
                kind = "enum " + field.enum_type.full_name
            else:
                kind = KINDS[field.type]
            lines.append(f"{field.name} {field.number} {'*' if repeated else '-'} {kind}")
    for name in sorted(enums):
        lines.append(f"E {name}")
        for value in enums[name].values:
            lines.append(f"{value.name} {value.number}")
    print("// Generated by scripts/protobuf/schema.py from the `xds-protos` descriptors; do not edit by hand.")
    print("//")
    print(f"// {len(messages)} messages and {len(enums)} enums: every type an Attaché xDS file can contain.")
    print()
    print("/// The schema ProtobufTranscoder reads: `M <message> [map]`, then `<field> <number> <*|-> <kind> [type]`")
    print("/// per field (`*` repeated); `E <enum>`, then `<value> <number>` per value.")
    print('let envoySchemaText = """')
    print("\n".join("    " + line for line in lines))
    print('    """')


if __name__ == "__main__":
    sys.exit(main())
