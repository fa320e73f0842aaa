// HTTPS to the Kubernetes API through libcurl: Foundation's URLSession on Linux cannot trust a private CA or
// present a client certificate from memory, which every cluster's API server needs. The only module that imports
// CCurl; Attaché's Kubernetes source speaks to the API server through `HTTPSConnection` alone.

import CCurl
import Foundation

/// How to trust the server and who the client is: PEM bytes held in memory (never written to a file by this
/// module), or `insecureSkipVerify` when a kubeconfig says so.
public struct TLSClientSettings: Sendable {
    public var caCertificate: [UInt8]?
    public var clientCertificate: [UInt8]?
    public var clientKey: [UInt8]?
    public var insecureSkipVerify = false

    public init(
        caCertificate: [UInt8]? = nil, clientCertificate: [UInt8]? = nil, clientKey: [UInt8]? = nil,
        insecureSkipVerify: Bool = false
    ) {
        self.caCertificate = caCertificate
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.insecureSkipVerify = insecureSkipVerify
    }
}

/// An HTTP answer: status, headers (names lower case), and the body (whole for `get`; for a stream, only a refused
/// request's, at most 64 KiB: its error text).
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    /// `Retry-After` in seconds, when the server sent one.
    public var retryAfter: TimeInterval? { headers["retry-after"].flatMap { TimeInterval($0) } }
}

/// Why a request got no HTTP answer.
public enum HTTPFailure: Error, CustomStringConvertible, Sendable {
    /// The connection failed or broke (refused, reset, TLS, timeout), with libcurl's words.
    case transport(String)
    /// The caller asked to stop.
    case stopped

    public var description: String {
        switch self {
        case .transport(let reason): return reason
        case .stopped: return "stopped"
        }
    }
}

/// One keep-alive connection to one API server (a libcurl easy handle, which reuses its connection between
/// requests). Not shared between threads: each watcher has its own.
public final class HTTPSConnection {
    private let handle: UnsafeMutableRawPointer
    private let settings: TLSClientSettings
    private let connectTimeout: TimeInterval

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(tls: TLSClientSettings, connectTimeout: TimeInterval = 10) {
        _ = Self.globalInit
        handle = curl_easy_init()
        settings = tls
        self.connectTimeout = connectTimeout
    }

    deinit { curl_easy_cleanup(handle) }

    /// A GET, its whole body held (`timeout`: the whole exchange).
    public func get(_ url: String, headers: [String], timeout: TimeInterval) throws(HTTPFailure) -> HTTPAnswer {
        let exchange = Exchange(onLine: nil, shouldStop: { false })
        try perform(url, headers: headers, timeout: timeout, exchange: exchange)
        return HTTPAnswer(status: exchange.status, headers: exchange.headers, body: exchange.body)
    }

    /// A GET whose body is a stream of lines (a watch): each complete line goes to `onLine` as it arrives, until the
    /// server ends the response, `timeout` passes, or `shouldStop` (asked at least once a second) says so. Only a 2xx
    /// answer's body is streamed; another's is kept in `body`.
    public func stream(
        _ url: String, headers: [String], timeout: TimeInterval, shouldStop: @escaping () -> Bool,
        onLine: @escaping (ArraySlice<UInt8>) -> Void
    ) throws(HTTPFailure) -> HTTPAnswer {
        let exchange = Exchange(onLine: onLine, shouldStop: shouldStop)
        try perform(url, headers: headers, timeout: timeout, exchange: exchange)
        if exchange.streaming, !exchange.body.isEmpty { onLine(exchange.body[...]) }  // a last line without "\n"
        return HTTPAnswer(
            status: exchange.status, headers: exchange.headers, body: exchange.streaming ? [] : exchange.body)
    }

    private func perform(_ url: String, headers: [String], timeout: TimeInterval, exchange: Exchange)
        throws(HTTPFailure)
    {
        curl_easy_reset(handle)
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }
        _ = attache_curl_set_string(handle, CURLOPT_URL, url)
        _ = attache_curl_set_pointer(handle, CURLOPT_HTTPHEADER, list)
        _ = attache_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = attache_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        _ = attache_curl_set_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        _ = attache_curl_set_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        _ = attache_curl_set_long(handle, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        _ = attache_curl_set_string(handle, CURLOPT_USERAGENT, "attache")
        if settings.insecureSkipVerify {
            _ = attache_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            _ = attache_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let ca = settings.caCertificate {
            _ = ca.withUnsafeBytes { attache_curl_set_blob(handle, CURLOPT_CAINFO_BLOB, $0.baseAddress, $0.count) }
        }
        if let certificate = settings.clientCertificate, let key = settings.clientKey {
            _ = certificate.withUnsafeBytes {
                attache_curl_set_blob(handle, CURLOPT_SSLCERT_BLOB, $0.baseAddress, $0.count)
            }
            _ = attache_curl_set_string(handle, CURLOPT_SSLCERTTYPE, "PEM")
            _ = key.withUnsafeBytes { attache_curl_set_blob(handle, CURLOPT_SSLKEY_BLOB, $0.baseAddress, $0.count) }
            _ = attache_curl_set_string(handle, CURLOPT_SSLKEYTYPE, "PEM")
        }
        let context = Unmanaged.passUnretained(exchange).toOpaque()
        _ = attache_curl_set_write(
            handle,
            { data, size, count, context in
                let exchange = Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
                let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
                exchange.receive(bytes)
                return size * count
            }, context)
        _ = attache_curl_set_header_callback(
            handle,
            { data, size, count, context in
                let exchange = Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
                exchange.header(UnsafeRawBufferPointer(start: data, count: size * count))
                return size * count
            }, context)
        _ = attache_curl_set_progress(
            handle,
            { context, _, _, _, _ in
                let exchange = Unmanaged<Exchange>.fromOpaque(context!).takeUnretainedValue()
                return exchange.shouldStop() ? 1 : 0
            }, context)
        let code = withExtendedLifetime(exchange) { curl_easy_perform(handle) }
        if code == CURLE_ABORTED_BY_CALLBACK { throw .stopped }
        guard code == CURLE_OK || (code == CURLE_OPERATION_TIMEDOUT && exchange.streaming) else {
            throw .transport(String(cString: curl_easy_strerror(code)))
        }
        exchange.status = attache_curl_response_code(handle)
    }
}

/// One request's state, reached from libcurl's callbacks.
private final class Exchange {
    let onLine: ((ArraySlice<UInt8>) -> Void)?
    let shouldStop: () -> Bool
    var status = 0
    var headers: [String: String] = [:]
    var body: [UInt8] = []
    /// Lines are being handed out (a 2xx answer to a stream request).
    var streaming = false

    init(onLine: ((ArraySlice<UInt8>) -> Void)?, shouldStop: @escaping () -> Bool) {
        self.onLine = onLine
        self.shouldStop = shouldStop
    }

    func header(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or 100 Continue): its own status and headers.
            headers = [:]
            let parts = line.split(separator: " ")
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            streaming = onLine != nil && (200..<300).contains(status)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard streaming, let onLine else {
            if onLine == nil {
                body.append(contentsOf: bytes)
            } else if body.count < 65_536 {
                body.append(contentsOf: bytes.prefix(65_536 - body.count))
            }
            return
        }
        body.append(contentsOf: bytes)
        var start = 0
        while let newline = body[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if newline > start { onLine(body[start..<newline]) }
            start = newline + 1
        }
        body.removeFirst(start)
    }
}
