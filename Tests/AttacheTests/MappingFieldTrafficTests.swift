import XCTest

@testable import Attache

/// Mapping fields that change where a request goes or how it gets there, proven with a real Envoy and real
/// upstreams on loopback.
final class MappingFieldTrafficTests: XCTestCase {
    /// `grpc: true` speaks HTTP/2 to the upstream: an HTTP/2-only upstream answers through it, and refuses the
    /// same Mapping without the field (Envoy then speaks HTTP/1.1 and the upstream's codec drops the connection).
    func testGRPCSpeaksHTTP2ToTheUpstream() throws {
        let upstream = try HTTP2Backend()
        defer { upstream.stop() }
        let yaml = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: grpc}
            spec: {prefix: /helloworld.Greeter/, rewrite: "", service: "127.0.0.1:\(upstream.port)", grpc: true}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: plain}
            spec: {prefix: /plain/, service: "127.0.0.1:\(upstream.port)"}
            """
        let harness = try TrafficHarness(backends: [], yaml: yaml)
        defer { harness.stop() }
        let grpc = try harness.request("/helloworld.Greeter/SayHello", method: "POST")
        XCTAssertEqual(grpc.status, 200, grpc.text)
        XCTAssertEqual(grpc.backend, "h2")
        XCTAssertEqual(grpc.headers["x-protocol"], "HTTP/2")
        let plain = try harness.request("/plain/x")
        XCTAssertNotEqual(plain.status, 200, "an HTTP/1.1 request reached an HTTP/2-only upstream: \(plain.text)")
    }
}
