import Foundation
import XCTest

@testable import Attache

#if canImport(Glibc)
    import Glibc
#endif

// The traffic harness: real backends and a real Envoy on loopback, driven by what `attache translate` writes.
//
//   let harness = try TrafficHarness(backends: ["stable", "canary"], yaml: "... service: @canary@ ...")
//   defer { harness.stop() }
//   let counts = try harness.count(2000, path: "/someapp/")
//   assertShare(counts, "canary", 0.30, of: 2000)
//
// `@NAME@` in the YAML becomes the address of backend NAME (`127.0.0.1:port`, or `localhost:port` to go through
// DNS), and `@NAME.port@` its port alone (for Endpoints objects). Everything listens on loopback only; every loop is bounded by a count and a deadline; `stop()` (and
// deinit) tears the processes down even when a test fails.

/// A Python helper of Tests/Harness on loopback: started with its arguments, it prints one JSON line of ports
/// (`{"name": port, ...}`) and serves until our end of its stdin closes, so it cannot outlive the test run.
final class HarnessProcess {
    let ports: [String: Int]
    private let process = Process()
    private let input = Pipe()

    init(script: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", repositoryRoot.appendingPathComponent("Tests/Harness/" + script).path] + arguments
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // The first line lists the ports; read it byte by byte so nothing else is consumed.
        var line: [UInt8] = []
        let handle = output.fileHandleForReading
        while line.last != UInt8(ascii: "\n") {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { break }
            line += byte
        }
        guard let ports = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Int] else {
            process.terminate()
            throw HarnessError("\(script) did not report its ports")
        }
        self.ports = ports
    }

    func stop() {
        guard process.isRunning else { return }
        try? input.fileHandleForWriting.close()
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Loopback HTTP backends (Tests/Harness/backends.py): one port per name, each answering with JSON naming itself
/// and echoing the method, path, Host and headers it received.
final class LoopbackBackends {
    private let process: HarnessProcess
    var ports: [String: Int] { process.ports }

    /// `tls`: a certificate and key file; backends whose names start with `tls` then speak TLS with them.
    /// `clientCA`: TLS backends then require a client certificate that chains to it.
    init(names: [String], tls: (certificate: String, key: String)? = nil, clientCA: String? = nil) throws {
        process = try HarnessProcess(
            script: "backends.py",
            arguments: names + (tls.map { ["--tls", $0.certificate, $0.key] } ?? [])
                + (clientCA.map { ["--client-ca", $0] } ?? []))
    }

    func stop() { process.stop() }
}

/// A real Envoy running a bootstrap, ready when its admin `/ready` says LIVE.
final class EnvoyProcess {
    let adminPort: Int
    let logPath: String
    private let process = Process()

    init(bootstrapPath: String, adminPort: Int, readyWithin timeout: TimeInterval = 20) throws {
        let envoy = try EnvoyLocator.require()
        self.adminPort = adminPort
        logPath = bootstrapPath + ".envoy.log"
        process.executableURL = URL(fileURLWithPath: envoy)
        // One worker thread keeps the 2-core CI machine responsive; no hot restart, so several Envoys can coexist.
        process.arguments = [
            "-c", bootstrapPath, "--disable-hot-restart", "--concurrency", "1", "--log-level", "warn", "--log-path",
            logPath,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !process.isRunning {
                throw HarnessError("envoy exited with status \(process.terminationStatus):\n\(log)")
            }
            if let ready = try? admin("/ready"), ready.status == 200 { return }
            usleep(50_000)
        }
        stop()
        throw HarnessError("envoy was not ready within \(timeout) s:\n\(log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)).map { String($0.suffix(4000)) } ?? "" }

    /// A GET on the admin API (loopback).
    func admin(_ path: String) throws -> HTTPResponse {
        let client = HTTPClient(port: adminPort)
        defer { client.close() }
        return try client.send(path: path)
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A port that was free a moment ago on 127.0.0.1 (the kernel picks it).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket() failed") }
    defer { Glibc.close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw HarnessError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// One HTTP response, with the backend's JSON echo decoded when there is one.
struct HTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var echo: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    var backend: String? { echo?["backend"] as? String }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A minimal HTTP/1.1 client on one keep-alive connection to 127.0.0.1:port. Written here (not URLSession) so
/// tests can set any Host header and count thousands of requests quickly and predictably.
final class HTTPClient {
    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(port: Int) { self.port = port }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
        buffer = []
    }

    private func connect() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else {
            close()
            throw HarnessError("cannot connect to 127.0.0.1:\(port)")
        }
    }

    /// Sends one request; retries once on a fresh connection if the kept-alive one was closed by the server.
    func send(
        method: String = "GET", path: String, host: String = "example.com", headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws -> HTTPResponse {
        do {
            return try attempt(method: method, path: path, host: host, headers: headers, body: body)
        } catch {
            close()
            return try attempt(method: method, path: path, host: host, headers: headers, body: body)
        }
    }

    private func attempt(
        method: String, path: String, host: String, headers: [(String, String)], body requestBody: [UInt8]
    ) throws -> HTTPResponse {
        if fd < 0 { try connect() }
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "Content-Length: \(requestBody.count)\r\n\r\n"
        let bytes = Array(request.utf8) + requestBody
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw HarnessError("send failed") }
            sent += n
        }
        // Head.
        var headEnd: Int?
        while headEnd == nil {
            if let end = findHeadEnd() { headEnd = end } else { try fill() }
        }
        let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw HarnessError("bad status line: \(head)")
        }
        var responseHeaders: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            responseHeaders[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces)
        }
        // Body: Content-Length, or chunked.
        var body: [UInt8] = []
        if let length = responseHeaders["content-length"].flatMap(Int.init) {
            while buffer.count < length { try fill() }
            body = Array(buffer[0..<length])
            buffer.removeFirst(length)
        } else if responseHeaders["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                var lineEnd = findCRLF()
                while lineEnd == nil {
                    try fill()
                    lineEnd = findCRLF()
                }
                let size =
                    Int(String(decoding: buffer[0..<lineEnd!], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
                buffer.removeFirst(lineEnd! + 2)
                while buffer.count < size + 2 { try fill() }
                body += buffer[0..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        }
        if responseHeaders["connection"]?.lowercased() == "close" { close() }
        return HTTPResponse(status: status, headers: responseHeaders, body: body)
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { throw HarnessError("connection closed or timed out") }
        buffer += chunk[0..<n]
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4)
        where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i
        }
        return nil
    }

    private func findCRLF() -> Int? {
        guard buffer.count >= 2 else { return nil }
        for i in 0...(buffer.count - 2) where buffer[i] == 13 && buffer[i + 1] == 10 { return i }
        return nil
    }
}

/// Backends plus an Envoy running what `attache translate` made of `yaml`.
final class TrafficHarness {
    let backends: LoopbackBackends
    let envoy: EnvoyProcess
    let listenPort: Int
    let directory: URL
    let translateOutput: String
    /// The input as written for translate (backend addresses filled in).
    var inputPath: String { directory.appendingPathComponent("input.yaml").path }
    private let client: HTTPClient

    /// - Parameters:
    ///   - yaml: Ambassador input; `@NAME@` is replaced by backend NAME's `host:port`.
    ///   - viaDNS: write backends as `localhost:port` (a STRICT_DNS cluster) instead of `127.0.0.1:port`.
    init(
        backends names: [String], yaml: String, viaDNS: Bool = false, extraArguments: [String] = [],
        tls: (certificate: String, key: String)? = nil, backendClientCA: String? = nil
    ) throws {
        backends = try LoopbackBackends(names: names, tls: tls, clientCA: backendClientCA)
        var input = yaml
        for (name, port) in backends.ports {
            input = input.replacingOccurrences(of: "@\(name).port@", with: "\(port)")
            input = input.replacingOccurrences(of: "@\(name)@", with: "\(viaDNS ? "localhost" : "127.0.0.1"):\(port)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attache-traffic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let inputPath = directory.appendingPathComponent("input.yaml")
        try input.write(to: inputPath, atomically: true, encoding: .utf8)
        listenPort = try freeLoopbackPort()
        let adminPort = try freeLoopbackPort()

        // Exactly the `attache translate --output` code path, in-process.
        final class Sink: @unchecked Sendable { var text = "" }
        let sink = Sink()
        let io = CommandIO(
            writeOut: { sink.text += String(decoding: $0, as: UTF8.self) }, writeErr: { sink.text += $0 + "\n" },
            readIn: { [] })
        let output = directory.appendingPathComponent("out")
        let status = AttacheCLI.main(
            [
                "translate", "--output", output.path, "--listen-address", "127.0.0.1", "--listen-port", "\(listenPort)",
                "--admin-port", "\(adminPort)",
            ] + extraArguments + [inputPath.path], io: io)
        translateOutput = sink.text
        guard status == 0 else {
            backends.stop()
            try? FileManager.default.removeItem(at: directory)
            throw HarnessError("attache translate exited \(status):\n\(sink.text)")
        }
        do {
            envoy = try EnvoyProcess(
                bootstrapPath: output.appendingPathComponent("bootstrap.json").path, adminPort: adminPort)
        } catch {
            // No Envoy (the test is then skipped) or it would not start: nothing of this harness may stay behind.
            backends.stop()
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        client = HTTPClient(port: listenPort)
    }

    /// One request through Envoy.
    func request(_ path: String, method: String = "GET", host: String = "example.com", headers: [(String, String)] = [])
        throws -> HTTPResponse
    {
        try client.send(method: method, path: path, host: host, headers: headers)
    }

    /// Sends `n` requests (stopping early only at the deadline) and counts responses by backend; a response that
    /// did not come from a backend counts as `status:<code>`.
    func count(
        _ n: Int, path: String, method: String = "GET", host: String = "example.com", headers: [(String, String)] = [],
        deadline: TimeInterval = 60
    ) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        let stopAt = Date().addingTimeInterval(deadline)
        for _ in 0..<n where Date() < stopAt {
            let response = try request(path, method: method, host: host, headers: headers)
            counts[response.backend ?? "status:\(response.status)", default: 0] += 1
        }
        return counts
    }

    func stop() {
        client.close()
        envoy.stop()
        backends.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}

/// Asserts that `backend` got a share `p` of `n` requests, within 4 standard deviations of the binomial
/// distribution (a false alarm about once in 16,000 runs). p = 0 or 1 must hold exactly.
func assertShare(
    _ counts: [String: Int], _ backend: String, _ p: Double, of n: Int, file: StaticString = #filePath,
    line: UInt = #line
) {
    let total = counts.values.reduce(0, +)
    XCTAssertEqual(total, n, "not all \(n) requests completed: \(counts)", file: file, line: line)
    let observed = counts[backend] ?? 0
    let sigma = (Double(n) * p * (1 - p)).squareRoot()
    let expected = Double(n) * p
    let tolerance = 4 * sigma
    XCTAssert(
        abs(Double(observed) - expected) <= tolerance,
        "\(backend): \(observed)/\(n) = \(String(format: "%.3f", Double(observed) / Double(n))), expected \(p) ± \(String(format: "%.3f", tolerance / Double(n))) (4σ); all: \(counts)",
        file: file, line: line)
}
