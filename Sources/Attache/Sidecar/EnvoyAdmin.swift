import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Envoy's admin endpoint, asked by the sidecar whether Envoy applied what it wrote (`watch --envoy-admin URL`).
///
/// One filtered `/stats` request per question: at 10,000 clusters an unfiltered one costs Envoy's main thread, the
/// thread that applies updates, about 100 ms. HTTP/1.1 with `Connection: close` over a blocking socket with timeouts
/// (Envoy's admin answers HTTP/1.0 with 426): the admin listener is local and this is all it needs.
struct EnvoyAdmin: Sendable {
    let host: String
    let port: Int
    /// How long one request may take.
    var timeout: TimeInterval = 1

    /// Parses `http://HOST:PORT` (an optional trailing `/`); nil for anything else.
    init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = url.dropFirst("http://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
            (1...65535).contains(port)
        else {
            return nil
        }
        var host = String(rest[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard isIPAddressLiteral(host) || host == "localhost" else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : host
        self.port = port
    }

    /// The stats whose names match `filter` (an RE2 regex, as Envoy's `/stats?filter=` takes it): name → value as
    /// printed (text readouts keep their quotes off).
    func stats(filter: String) throws(EnvoyAdminError) -> [String: String] {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_."))
        let query = filter.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let body = try get("/stats?filter=" + query)
        var result: [String: String] = [:]
        for line in body.split(separator: "\n") {
            guard let separator = line.range(of: ": ") else { continue }
            var value = line[separator.upperBound...]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            result[String(line[..<separator.lowerBound])] = String(value)
        }
        return result
    }

    /// One GET; the body of a 200 answer.
    private func get(_ path: String) throws(EnvoyAdminError) -> String {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw .unreachable("no address for \(host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
        guard fd >= 0 else { throw .unreachable("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - floor(timeout)) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw .unreachable("connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { throw .unreachable("send: \(String(cString: strerror(errno)))") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw .unreachable("reading the answer: \(String(cString: strerror(errno)))") }
            response.append(contentsOf: buffer[..<count])
            if response.count > 64 << 20 { throw .badAnswer("answer over 64 MB") }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let headerEnd = text.range(of: "\r\n\r\n") else { throw .badAnswer("no HTTP header") }
        let header = text[..<headerEnd.lowerBound]
        let statusLine = header.range(of: "\r\n").map { header[..<$0.lowerBound] } ?? header
        guard statusLine.split(separator: " ").dropFirst().first == "200" else { throw .badAnswer(String(statusLine)) }
        let body = String(text[headerEnd.upperBound...])
        return header.lowercased().contains("transfer-encoding: chunked") ? try dechunked(body) : body
    }

    /// A chunked HTTP/1.1 body without its chunk framing (`SIZE\r\nDATA\r\n ... 0\r\n\r\n`).
    private func dechunked(_ body: String) throws(EnvoyAdminError) -> String {
        var bytes = Array(body.utf8)[...]
        var result: [UInt8] = []
        while true {
            guard let lineEnd = bytes.firstIndex(of: UInt8(ascii: "\r")), lineEnd + 1 < bytes.endIndex else {
                throw .badAnswer("bad chunk")
            }
            let sizeText = String(decoding: bytes[..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw .badAnswer("bad chunk size")
            }
            if size == 0 { return String(decoding: result, as: UTF8.self) }
            let start = lineEnd + 2
            guard start + size <= bytes.endIndex else { throw .badAnswer("short chunk") }
            result.append(contentsOf: bytes[start..<(start + size)])
            bytes = bytes[min(bytes.endIndex, start + size + 2)...]
        }
    }
}

/// Why the admin endpoint could not answer.
enum EnvoyAdminError: Error, CustomStringConvertible {
    case unreachable(String)
    case badAnswer(String)

    var description: String {
        switch self {
        case .unreachable(let why): return "not reachable (\(why))"
        case .badAnswer(let why): return "answered unexpectedly (\(why))"
        }
    }
}

/// What the sidecar expects Envoy to serve after a write: for each resource (by its stat prefix), the version it
/// wrote, the version Envoy served before, and how many updates Envoy had rejected before.
struct EnvoyExpectation: Sendable {
    var resource: String
    var statPrefix: String
    var version: String
}

/// The outcome of asking Envoy about a write.
enum EnvoyConfirmation: Equatable {
    case applied
    case rejected([(resource: String, version: String, serving: String)])
    case notYet([(resource: String, version: String, serving: String)])
    case unknown(String)

    static func == (a: EnvoyConfirmation, b: EnvoyConfirmation) -> Bool { a.summary == b.summary }

    var summary: String {
        switch self {
        case .applied: return "applied"
        case .rejected(let items): return "rejected " + items.map(\.resource).joined(separator: ",")
        case .notYet(let items): return "not yet " + items.map(\.resource).joined(separator: ",")
        case .unknown(let why): return "unknown " + why
        }
    }
}

extension EnvoyAdmin {
    /// The stats filter for these resources' `version_text` and `update_rejected`.
    static func filter(for prefixes: [String]) -> String {
        "^(" + prefixes.map(re2Escaped).joined(separator: "|") + ")\\.(version_text|update_rejected)$"
    }

    /// The rejected-update counters of these resources now (a baseline taken before writing).
    func rejectionCounts(_ prefixes: [String]) -> [String: Int]? {
        guard let stats = try? stats(filter: Self.filter(for: prefixes)) else { return nil }
        var counts: [String: Int] = [:]
        for prefix in prefixes { counts[prefix] = Int(stats[prefix + ".update_rejected"] ?? "") ?? 0 }
        return counts
    }

    /// Asks until every expected version is served, or one was rejected, or `deadline` passes: a few filtered
    /// requests a write (Envoy applies a renamed file within milliseconds), never a poll between writes.
    func confirm(_ expectations: [EnvoyExpectation], rejectedBefore: [String: Int], deadline: Date) -> EnvoyConfirmation
    {
        var pause: useconds_t = 5_000
        var waiting: [(resource: String, version: String, serving: String)] = []
        while true {
            let stats: [String: String]
            do { stats = try self.stats(filter: Self.filter(for: expectations.map(\.statPrefix))) } catch {
                return .unknown("Envoy's admin at \(host):\(port) \(error)")
            }
            var rejected: [(resource: String, version: String, serving: String)] = []
            waiting = []
            for expectation in expectations {
                let serving = stats[expectation.statPrefix + ".version_text"] ?? "none"
                if serving == expectation.version { continue }
                let rejections = Int(stats[expectation.statPrefix + ".update_rejected"] ?? "") ?? 0
                let item = (expectation.resource, expectation.version, serving)
                if rejections > rejectedBefore[expectation.statPrefix, default: 0] {
                    rejected.append(item)
                } else {
                    waiting.append(item)
                }
            }
            if !rejected.isEmpty { return .rejected(rejected) }
            if waiting.isEmpty { return .applied }
            if Date() >= deadline { return .notYet(waiting) }
            usleep(pause)
            pause = min(pause * 2, 200_000)
        }
    }
}
