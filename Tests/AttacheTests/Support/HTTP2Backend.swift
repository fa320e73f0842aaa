import Foundation

/// An upstream that speaks HTTP/2 only (prior knowledge, as gRPC does): a second Envoy on loopback whose listener's
/// codec is HTTP2 and which answers every request itself with `{"backend": "h2"}` and an `x-protocol` header saying
/// which protocol the request arrived in. An HTTP/1.1 request never reaches its router: Envoy's codec refuses it.
final class HTTP2Backend {
    let port: Int
    private let envoy: EnvoyProcess
    private let directory: URL

    init() throws {
        port = try freeLoopbackPort()
        let adminPort = try freeLoopbackPort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("attache-h2-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let bootstrap: [String: Any] = [
            "admin": ["address": ["socket_address": ["address": "127.0.0.1", "port_value": adminPort]]],
            "static_resources": [
                "listeners": [
                    [
                        "name": "h2",
                        "address": ["socket_address": ["address": "127.0.0.1", "port_value": port]],
                        "filter_chains": [
                            [
                                "filters": [
                                    [
                                        "name": "envoy.filters.network.http_connection_manager",
                                        "typed_config": [
                                            "@type":
                                                "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                                            "stat_prefix": "h2", "codec_type": "HTTP2",
                                            "route_config": [
                                                "virtual_hosts": [
                                                    [
                                                        "name": "all", "domains": ["*"],
                                                        "routes": [
                                                            [
                                                                "match": ["prefix": "/"],
                                                                "direct_response": [
                                                                    "status": 200,
                                                                    "body": ["inline_string": #"{"backend": "h2"}"#],
                                                                ],
                                                                "response_headers_to_add": [
                                                                    [
                                                                        "header": [
                                                                            "key": "x-protocol", "value": "%PROTOCOL%",
                                                                        ]
                                                                    ]
                                                                ],
                                                            ]
                                                        ],
                                                    ]
                                                ]
                                            ],
                                            "http_filters": [
                                                [
                                                    "name": "envoy.filters.http.router",
                                                    "typed_config": [
                                                        "@type":
                                                            "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
                                                    ],
                                                ]
                                            ],
                                        ],
                                    ]
                                ]
                            ]
                        ],
                    ]
                ]
            ],
        ]
        let path = directory.appendingPathComponent("h2.json")
        try JSONSerialization.data(withJSONObject: bootstrap).write(to: path)
        do {
            envoy = try EnvoyProcess(bootstrapPath: path.path, adminPort: adminPort)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    func stop() {
        envoy.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
