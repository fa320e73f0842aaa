import XCTest

@testable import Attache

/// Where a Mapping's `service` sends traffic, case by case: each case is a Mapping (and the objects it needs) run
/// through the pipeline, and the one cluster it must produce, or the error that must refuse it.
final class UpstreamResolutionTests: XCTestCase {
    private static let endpointResolver = """
        ---
        apiVersion: getambassador.io/v2
        kind: KubernetesEndpointResolver
        metadata: {name: endpoint}
        """
    private static let webService = """
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: shop}
        spec: {ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 9000}]}
        """

    private struct Case {
        var name: String
        var spec: String
        var others = ""
        var namespace = "shop"
        var discovery: ClusterDiscovery?
        var tls = false
        var error: DiagnosticCode?
    }

    func testServiceForms() {
        let cases: [Case] = [
            Case(
                name: "bare name: the Mapping's namespace, port 80", spec: "service: web",
                discovery: .dns(host: "web.shop", port: 80)),
            Case(name: "name.namespace", spec: "service: web.other", discovery: .dns(host: "web.other", port: 80)),
            Case(name: "a number port", spec: "service: web:8080", discovery: .dns(host: "web.shop", port: 8080)),
            Case(
                name: "https: TLS and 443", spec: "service: https://web", discovery: .dns(host: "web.shop", port: 443),
                tls: true),
            Case(
                name: "an FQDN stays", spec: "service: web.shop.svc.cluster.local:81",
                discovery: .dns(host: "web.shop.svc.cluster.local", port: 81)),
            Case(
                name: "an IP address stays", spec: "service: 10.0.0.7:9000",
                discovery: .dns(host: "10.0.0.7", port: 9000)),
            Case(
                name: "a port name through the Service", spec: "service: web:admin", others: Self.webService,
                discovery: .dns(host: "web.shop", port: 9000)),
            Case(
                name: "a port name without the Service is refused", spec: "service: web:admin", error: .serviceInvalid),
            Case(
                name: "a port name the Service lacks is refused", spec: "service: web:grpc", others: Self.webService,
                error: .serviceInvalid),
            Case(
                name: "endpoint resolver: the Service port's pods", spec: "{service: web, resolver: endpoint}",
                others: Self.endpointResolver + "\n" + Self.webService,
                discovery: .endpoints(namespace: "shop", service: "web", port: 80)),
            Case(
                name: "endpoint resolver, port by name", spec: "{service: 'web:admin', resolver: endpoint}",
                others: Self.endpointResolver + "\n" + Self.webService,
                discovery: .endpoints(namespace: "shop", service: "web", port: 9000)),
            Case(
                name: "endpoint resolver on an IP address: the address (as Emissary)",
                spec: "{service: '10.0.0.7:9000', resolver: endpoint}",
                others: Self.endpointResolver, discovery: .dns(host: "10.0.0.7", port: 9000)),
            Case(
                name: "an unknown resolver is refused", spec: "{service: web, resolver: nowhere}",
                error: .resolverUnknown),
            Case(
                name: "use_ambassador_namespace_for_service_resolution leaves a bare name for Ambassador's namespace",
                spec: "service: web",
                others: """
                    ---
                    apiVersion: getambassador.io/v2
                    kind: Module
                    metadata: {name: ambassador, namespace: default}
                    spec: {config: {use_ambassador_namespace_for_service_resolution: true}}
                    """, discovery: .dns(host: "web", port: 80)),
        ]
        for test in cases {
            let yaml = """
                apiVersion: getambassador.io/v2
                kind: Mapping
                metadata: {name: m, namespace: \(test.namespace)}
                spec: {prefix: /, \(test.spec.hasPrefix("{") ? String(test.spec.dropFirst().dropLast()) : test.spec)}
                \(test.others)
                """
            let translation = translate([SourceFile(name: "case.yaml", text: yaml)], options: TranslationOptions())
            let errors = translation.diagnostics.filter { $0.severity == .error }
            if let error = test.error {
                XCTAssertEqual(errors.map(\.code), [error], "\(test.name): \(translation.diagnostics)")
                XCTAssertEqual(translation.model.clusters.count, 0, test.name)
                continue
            }
            XCTAssertEqual(errors.count, 0, "\(test.name): \(errors)")
            XCTAssertEqual(translation.model.clusters.map(\.discovery), test.discovery.map { [$0] } ?? [], test.name)
            XCTAssertEqual(translation.model.clusters.first?.tls, test.tls, test.name)
        }
    }
}
