import Foundation
import XCTest

@testable import Attache

/// The JSON → protobuf pass, byte by byte on small messages whose encoding is worked out here by hand from Envoy's
/// field numbers (not from the generated schema, which these check), then against Google's own protobuf library
/// on every fixture's xDS files (`testEveryFixtureDecodesAsItsJSON`).
final class ProtobufTranscoderTests: XCTestCase {
    let response = Envoy.discoveryResponseMessage

    func encode(_ json: String, as type: String? = nil) throws -> [UInt8] {
        try protobufEncoding(ofJSON: Array(json.utf8), as: type ?? response)
    }

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testScalarsStringsAndRepeated() throws {
        // DiscoveryResponse.version_info = 1.
        XCTAssertEqual(try encode(#"{"version_info":"a"}"#), [0x0A, 0x01] + bytes("a"))
        // Escapes decode to their bytes; é is two UTF-8 bytes.
        XCTAssertEqual(
            try encode(#"{"version_info":"a\"b\\c\u00e9\n"}"#),
            [0x0A, 0x08] + bytes("a\"b\\c") + [0xC3, 0xA9, 0x0A])
        // VirtualHost: name = 1, domains = 2 (repeated: one occurrence per element); null is absent.
        XCTAssertEqual(
            try encode(
                #"{ "name" : "h", "domains": ["a", "b"], "routes": null }"#, as: "envoy.config.route.v3.VirtualHost"),
            [0x0A, 0x01] + bytes("h") + [0x12, 0x01] + bytes("a") + [0x12, 0x01] + bytes("b"))
        // A length of 200 takes two bytes.
        let long = String(repeating: "x", count: 200)
        XCTAssertEqual(try encode(#"{"version_info":"\#(long)"}"#), [0x0A, 0xC8, 0x01] + bytes(long))
    }

    func testAnyNestedAndWidenedLengths() throws {
        let url = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
        // ClusterLoadAssignment.cluster_name = 1; Any: type_url = 1, value = 2; DiscoveryResponse.resources = 2.
        let inner: [UInt8] = [0x0A, 0x01] + bytes("c")
        let any: [UInt8] = [0x0A, UInt8(url.utf8.count)] + bytes(url) + [0x12, UInt8(inner.count)] + inner
        let expected: [UInt8] = [0x12, UInt8(any.count)] + any
        XCTAssertEqual(try encode(#"{"resources":[{"@type":"\#(url)","cluster_name":"c"}]}"#), expected)
        // `@type` after the other members (proto3 JSON allows it anywhere) encodes the same.
        XCTAssertEqual(try encode(#"{"resources":[{"cluster_name":"c","@type":"\#(url)"}]}"#), expected)
        // A nested message of 128 bytes or more: each enclosing length is widened in place.
        let name = String(repeating: "n", count: 200)
        let longInner: [UInt8] = [0x0A, 0xC8, 0x01] + bytes(name)
        let longAny: [UInt8] = [0x0A, UInt8(url.utf8.count)] + bytes(url) + [0x12, 0xCB, 0x01] + longInner
        XCTAssertEqual(longAny.count, 274)
        XCTAssertEqual(
            try encode(#"{"version_info":"v","resources":[{"@type":"\#(url)","cluster_name":"\#(name)"}]}"#),
            [0x0A, 0x01] + bytes("v") + [0x12, 0x92, 0x02] + longAny)
    }

    func testDurationsEnumsAndWrappers() throws {
        let cluster = "envoy.config.cluster.v3.Cluster"
        // Cluster.connect_timeout = 4 (Duration: seconds = 1, nanos = 2).
        XCTAssertEqual(try encode(#"{"connect_timeout":"3s"}"#, as: cluster), [0x22, 0x02, 0x08, 0x03])
        XCTAssertEqual(
            try encode(#"{"connect_timeout":"0.250s"}"#, as: cluster), [0x22, 0x05, 0x10, 0x80, 0xE5, 0x9A, 0x77])
        // Negative durations: both parts negative, as 10-byte varints.
        XCTAssertEqual(
            try encode(#"{"connect_timeout":"-1.5s"}"#, as: cluster),
            [0x22, 0x16, 0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01]
                + [0x10, 0x80, 0xB6, 0xCA, 0x91, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        // Cluster.type = 2 (DiscoveryType: STATIC 0, EDS 3), by name or number.
        XCTAssertEqual(try encode(#"{"type":"EDS"}"#, as: cluster), [0x10, 0x03])
        XCTAssertEqual(try encode(#"{"type":3}"#, as: cluster), [0x10, 0x03])
        XCTAssertEqual(try encode(#"{"type":"STATIC"}"#, as: cluster), [0x10, 0x00])
        // RouteMatch: prefix = 1, case_sensitive = 4 (BoolValue: value = 1), runtime_fraction = 9
        // (default_value = 1: FractionalPercent numerator = 1, denominator = 2 (HUNDRED 0, MILLION 2); runtime_key = 2).
        XCTAssertEqual(
            try encode(
                #"{"prefix":"/a","case_sensitive":false,"runtime_fraction":{"default_value":{"numerator":20,"denominator":"MILLION"},"runtime_key":"k"}}"#,
                as: "envoy.config.route.v3.RouteMatch"),
            [0x0A, 0x02] + bytes("/a") + [0x22, 0x02, 0x08, 0x00]
                + [0x4A, 0x09, 0x0A, 0x04, 0x08, 0x14, 0x10, 0x02, 0x12, 0x01] + bytes("k"))
    }

    func testStructsAndMaps() throws {
        // Runtime: name = 1, layer = 2 (Struct: fields = 1, a map of string → Value; Value.number_value = 2 is a
        // double, string_value = 3, bool_value = 4, null_value = 1, list_value = 6 with values = 1).
        let twenty: [UInt8] = [0x11, 0, 0, 0, 0, 0, 0, 0x34, 0x40]
        let entry: [UInt8] = [0x0A, 0x01] + bytes("k") + [0x12, 0x09] + twenty
        XCTAssertEqual(
            try encode(#"{"name":"w","layer":{"k":20}}"#, as: "envoy.service.runtime.v3.Runtime"),
            [0x0A, 0x01] + bytes("w") + [0x12, 0x10, 0x0A, 0x0E] + entry)
        let list: [UInt8] =
            [0x0A, 0x02, 0x20, 0x01] + [0x0A, 0x02, 0x08, 0x00] + [0x0A, 0x03, 0x1A, 0x01] + bytes("s")
        let listEntry: [UInt8] =
            [0x0A, 0x01] + bytes("l") + [0x12, UInt8(list.count + 2), 0x32, UInt8(list.count)] + list
        XCTAssertEqual(
            try encode(#"{"layer":{"l":[true,null,"s"]}}"#, as: "envoy.service.runtime.v3.Runtime"),
            [0x12, UInt8(listEntry.count + 2), 0x0A, UInt8(listEntry.count)] + listEntry)
        // Cluster.typed_extension_protocol_options = 36, map<string, Any>: one entry (key = 1, value = 2) per member.
        let url = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
        let any: [UInt8] = [0x0A, UInt8(url.utf8.count)] + bytes(url) + [0x12, 0x00]
        let mapEntry: [UInt8] = [0x0A, 0x01] + bytes("k") + [0x12, UInt8(any.count)] + any
        XCTAssertEqual(
            try encode(
                #"{"typed_extension_protocol_options":{"k":{"@type":"\#(url)"}}}"#,
                as: "envoy.config.cluster.v3.Cluster"),
            [0xA2, 0x02, UInt8(mapEntry.count)] + mapEntry)
    }

    func testRefusesWhatItCannotEncode() {
        func failure(_ json: String, as type: String? = nil) -> String {
            do {
                _ = try protobufEncoding(ofJSON: Array(json.utf8), as: type ?? response)
                return "encoded"
            } catch {
                return error.description
            }
        }
        XCTAssertEqual(
            failure(#"{"prefx":"/"}"#, as: "envoy.config.route.v3.RouteMatch"),
            #"protobuf encoding failed at JSON byte 2: envoy.config.route.v3.RouteMatch has no field "prefx""#)
        XCTAssertTrue(
            failure(#"{"type":"DNS"}"#, as: "envoy.config.cluster.v3.Cluster").contains(
                "envoy.config.cluster.v3.Cluster.DiscoveryType has no value DNS"))
        XCTAssertTrue(
            failure(#"{"resources":[{"@type":"type.googleapis.com/x.Y"}]}"#).contains("no message for @type"))
        XCTAssertTrue(failure(#"{"resources":[{"name":"x"}]}"#).contains("an Any without @type"))
        XCTAssertTrue(failure(#"{"version_info":"a"} x"#).contains("text after the document"))
        XCTAssertTrue(failure(#"{"version_info":"a"#).contains("unterminated string"))
        XCTAssertTrue(
            failure(#"{"connect_timeout":"3m"}"#, as: "envoy.config.cluster.v3.Cluster").contains("must end in s"))
        // ClusterLoadAssignment.endpoints[].lb_endpoints[].load_balancing_weight is a UInt32Value.
        XCTAssertTrue(
            failure(
                #"{"endpoints":[{"lb_endpoints":[{"load_balancing_weight":4294967296}]}]}"#,
                as: "envoy.config.endpoint.v3.ClusterLoadAssignment"
            ).contains("out of range"))
        XCTAssertTrue(failure("{}", as: "no.Such").contains("no message no.Such"))
    }

    /// Every field of every message is found by its name, and no other message's field by the same name.
    func testSchemaFindsEveryField() {
        let schema = ProtobufSchema.envoy
        XCTAssertGreaterThan(schema.messages.count, 300)
        for (index, message) in schema.messages.enumerated() {
            for field in schema.fields[message.fieldRange] {
                let name = Array(schema.name(of: field).utf8)
                let found = name.withUnsafeBufferPointer { schema.field(of: index, named: $0) }
                XCTAssertEqual(found?.number, field.number, "\(message.name).\(schema.name(of: field))")
                XCTAssertEqual(found?.message, index)
            }
            let missing = Array("no_such_field".utf8).withUnsafeBufferPointer { schema.field(of: index, named: $0) }
            XCTAssertNil(missing)
        }
        XCTAssertEqual(schema.fields.count, schema.messages.reduce(0) { $0 + $1.fieldRange.count })
    }

    /// Google's protobuf library (Python, with Envoy's API from the `xds-protos` package) reads every xDS file the
    /// sidecar writes for every fixture, binary and JSON, and must find the same message in both.
    func testEveryFixtureDecodesAsItsJSON() throws {
        let python = try ProtobufOracle.require()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("attache-protobuf-\(getpid())")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var pairs = 0
        for fixture in FixtureCase.all() {
            var options = try fixture.options()
            options.endpointDelivery = .files(directory: "/xds", encoding: .protobuf)
            let translation = translate(try fixture.sources(), options: options)
            guard translation.isComplete else { continue }
            let rendered =
                sidecarXDSFiles(translation)
                + renderXDSFiles(
                    translation, directory: "/xds", encoding: .protobuf, previous: [:]
                ).secrets
            for (index, (file, json)) in rendered.enumerated() {
                let binary: [UInt8]
                do {
                    binary = try protobufEncoding(ofJSON: json, as: response)
                } catch {
                    XCTFail("\(fixture.name) \(file): \(error)")
                    continue
                }
                let stem = work.appendingPathComponent("\(fixture.name)--\(index)").path
                try Data(json).write(to: URL(fileURLWithPath: stem + ".json"))
                try Data(binary).write(to: URL(fileURLWithPath: stem + ".pb"))
                pairs += 1
            }
        }
        XCTAssertGreaterThan(pairs, 200)
        let result = try runProcess(
            python, [repositoryRoot.appendingPathComponent("Tests/Harness/protobuf_oracle.py").path, work.path],
            timeout: 300)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("\(pairs) files: the same message"), result.output)
    }
}

/// The Python with Envoy's API protos (`xds-protos`) that checks the binary files; scripts/test installs it into
/// `.build/protobuf-venv` and exports ATTACHE_PROTOBUF_PYTHON. In CI its absence fails the test, as Envoy's does.
enum ProtobufOracle {
    static func require(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let candidates: [String?] = [
            environment["ATTACHE_PROTOBUF_PYTHON"],
            repositoryRoot.appendingPathComponent(".build/protobuf-venv/bin/python").path,
        ]
        for candidate in candidates.compactMap({ $0 }) where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        let hint = "run scripts/test (it installs xds-protos into .build/protobuf-venv), or set ATTACHE_PROTOBUF_PYTHON"
        if EnvoyLocator.isCI {
            XCTFail("the protobuf oracle is not installed, and CI must run it: \(hint)", file: file, line: line)
            throw XCTSkip("protobuf oracle missing (failed above)")
        }
        throw XCTSkip("the protobuf oracle is not installed: \(hint)")
    }
}
