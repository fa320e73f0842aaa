// Review: `explain` and `diff`, answered from the routing model rather than from JSON text.
//
// RequestEvaluation walks the ordered route table as Envoy does: the first route whose match holds wins, and
// Envoy draws one random number r in 0..<100 per request, so a matching route with threshold T takes the requests
// with r between the largest threshold of the earlier matching routes and T. Explain prints that distribution;
// RouteDiff compares it between two configs.

import Foundation

/// An HTTP request as an operator types it: `GET https://shop.example.com/svc/cart?x=1 -H 'gray: true'`.
public struct ProbeRequest: Sendable, Equatable {
    public var method: String
    public var host: String
    /// Path without the query string.
    public var path: String
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    /// `http` or `https`: which filter chain of a Listener the request arrives on.
    public var scheme = "http"

    public init(
        method: String = "GET", host: String, path: String, query: [(String, String)] = [],
        headers: [(String, String)] = [], scheme: String = "http"
    ) {
        self.scheme = scheme
        self.method = method
        self.host = host
        self.path = path
        self.query = query.map { (name: $0.0, value: $0.1) }
        self.headers = headers.map { (name: $0.0, value: $0.1) }
    }

    public static func == (a: ProbeRequest, b: ProbeRequest) -> Bool {
        a.scheme == b.scheme && a.method == b.method && a.host == b.host && a.path == b.path
            && a.query.map(\.name) == b.query.map(\.name)
            && a.query.map(\.value) == b.query.map(\.value) && a.headers.map(\.name) == b.headers.map(\.name)
            && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// Why a typed request cannot be read.
    public struct SyntaxError: Error, Equatable {
        public var message: String
    }

    /// Parses `[METHOD] URL` plus `name: value` headers, as curl reads them. The URL may be
    /// `https://host/path?query`, `host/path` or `/path` (host `example.com`). A `Host` or `:authority` header is the
    /// request's host (it replaces the URL's, as it does for Envoy); `:method` is its method. Pseudo-header names keep
    /// their leading colon (`:authority: x`).
    public static func parse(method: String?, url: String, headers: [String]) throws(SyntaxError) -> ProbeRequest {
        var rest = Substring(url)
        var scheme = "http"
        if let separator = rest.range(of: "://") {
            scheme = rest[..<separator.lowerBound].lowercased()
            guard scheme == "http" || scheme == "https" else {
                throw SyntaxError(message: "the URL \"\(url)\" is not http:// or https://")
            }
            rest = rest[separator.upperBound...]
        }
        var host = "example.com"
        if !rest.hasPrefix("/") {
            let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            host = String(rest[..<end])
            rest = rest[end...]
        }
        guard !host.isEmpty else { throw SyntaxError(message: "the URL \"\(url)\" has no host") }
        var path = String(rest)
        var query: [(String, String)] = []
        if let mark = path.firstIndex(of: "?") {
            for item in path[path.index(after: mark)...].split(separator: "&") {
                let parts = item.split(separator: "=", maxSplits: 1)
                query.append((percentDecoded(parts[0]), parts.count > 1 ? percentDecoded(parts[1]) : ""))
            }
            path = String(path[..<mark])
        }
        if path.isEmpty { path = "/" }
        var method = (method ?? "GET").uppercased()
        var parsed: [(String, String)] = []
        for header in headers {
            // The name ends at the first colon after its first character: `:authority: x` is `:authority`.
            let searchFrom = header.hasPrefix(":") ? header.index(after: header.startIndex) : header.startIndex
            guard let colon = header[searchFrom...].firstIndex(of: ":") else {
                throw SyntaxError(
                    message: "-H '\(header)' is not a header: write it as 'NAME: VALUE' (e.g. -H '\(header): true')")
            }
            let name = header[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            let value = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name != ":" else { throw SyntaxError(message: "-H '\(header)' has no header name") }
            switch name {
            case "host", ":authority": host = value
            case ":method": method = value.uppercased()
            case ":path", ":scheme":
                throw SyntaxError(message: "-H '\(header)': give the \(name.dropFirst()) in the URL")
            default:
                if name.hasPrefix(":") {
                    throw SyntaxError(message: "-H '\(header)': \(name) is not an HTTP/2 pseudo-header Envoy matches")
                }
                parsed.append((name, value))
            }
        }
        guard !host.isEmpty else { throw SyntaxError(message: "the request's Host is empty") }
        return ProbeRequest(method: method, host: host, path: path, query: query, headers: parsed, scheme: scheme)
    }

    private static func percentDecoded(_ text: Substring) -> String {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
    }

    var pathWithQuery: String {
        query.isEmpty
            ? path
            : path + "?" + query.map { $0.value.isEmpty ? $0.name : "\($0.name)=\($0.value)" }.joined(separator: "&")
    }
}

/// Why a route does not match a request: the first condition that fails.
public enum MismatchReason: Sendable, Equatable, CustomStringConvertible {
    case path(expected: String, kind: Mapping.PathMatch)
    case host(String)
    case method(String)
    case headerMissing(String)
    case headerDifferent(name: String, expected: String)
    case queryMissing(String)
    case queryDifferent(name: String, expected: String)

    public var description: String {
        switch self {
        case .path(let expected, .prefix): return "prefix \(expected) does not match the path"
        case .path(let expected, .exact): return "the path is not exactly \(expected)"
        case .path(let expected, .regex): return "the path does not match the regex \(expected)"
        case .host(let expected): return "host: it routes only for \(expected)"
        case .method(let expected): return "method: it routes only \(expected)"
        case .headerMissing(let name): return "header \(name) is missing"
        case .headerDifferent(let name, let expected): return "header \(name) does not match \(expected)"
        case .queryMissing(let name): return "query parameter \(name) is missing"
        case .queryDifferent(let name, let expected): return "query parameter \(name) does not match \(expected)"
        }
    }
}

/// Where a request goes under one route table.
public struct RequestOutcome: Sendable, Equatable {
    /// Index into the model's routes, and the percentage of such requests it takes.
    public var shares: [(route: Int, percent: Int)]
    /// The percentage no route takes: Envoy answers 404.
    public var unrouted: Int
    /// Routes that do not match the request, with the reason.
    public var mismatches: [(route: Int, reason: MismatchReason)]
    /// Routes that match but take nothing (earlier routes cover their whole threshold).
    public var shadowed: [Int]

    public static func == (a: RequestOutcome, b: RequestOutcome) -> Bool {
        a.shares.map(\.route) == b.shares.map(\.route) && a.shares.map(\.percent) == b.shares.map(\.percent)
            && a.unrouted == b.unrouted
    }
}

/// Evaluates a request against the routes in Envoy order. With `index`, only the routes whose path could match
/// are visited (the others cannot take the request, so the outcome is the same, without their mismatches).
public func evaluate(_ request: ProbeRequest, routes: [Route], index: RouteIndex? = nil) -> RequestOutcome {
    var outcome = RequestOutcome(shares: [], unrouted: 100, mismatches: [], shadowed: [])
    let regexes = index?.regexes ?? RegexCache()
    var covered = 0
    for position in index?.candidates(for: request) ?? Array(routes.indices) {
        let route = routes[position]
        if let reason = mismatch(route, request, regexes: regexes) {
            outcome.mismatches.append((position, reason))
            continue
        }
        let take = max(0, route.cumulativeWeight - covered)
        if take > 0 {
            outcome.shares.append((position, take))
            covered = route.cumulativeWeight
        } else {
            outcome.shadowed.append(position)
        }
        if covered >= 100 { break }
    }
    outcome.unrouted = 100 - covered
    return outcome
}

/// Routes by the paths they can match, so that evaluating many requests (diff evaluates one per route) does not
/// visit every route each time: a prefix route can only match a path that starts with its prefix, so the
/// candidates are found by looking up each prefix of the path; regex routes are always candidates.
public struct RouteIndex {
    private var prefixes: [String: [Int]] = [:]
    private var anyCasePrefixes: [String: [Int]] = [:]
    private var exactPaths: [String: [Int]] = [:]
    private var anyCaseExactPaths: [String: [Int]] = [:]
    private var regexRoutes: [Int] = []
    let regexes = RegexCache()

    public init(_ routes: [Route]) {
        for (position, route) in routes.enumerated() {
            switch (route.pathMatch, route.caseSensitive) {
            case (.prefix, true): prefixes[route.prefix, default: []].append(position)
            case (.prefix, false): anyCasePrefixes[route.prefix.lowercased(), default: []].append(position)
            case (.exact, true): exactPaths[route.prefix, default: []].append(position)
            case (.exact, false): anyCaseExactPaths[route.prefix.lowercased(), default: []].append(position)
            case (.regex, _): regexRoutes.append(position)
            }
        }
    }

    /// The positions of the routes whose path condition may hold, in route order.
    func candidates(for request: ProbeRequest) -> [Int] {
        var found = regexRoutes
        let lowered = request.path.lowercased()
        for (path, table) in [(request.path, prefixes), (lowered, anyCasePrefixes)] where !table.isEmpty {
            var end = path.startIndex
            while true {
                if let hits = table[String(path[..<end])] { found += hits }
                guard end < path.endIndex else { break }
                end = path.index(after: end)
            }
        }
        found += exactPaths[request.path] ?? []
        found += anyCaseExactPaths[lowered] ?? []
        return found.sorted()
    }
}

/// Compiled regexes by pattern, so that a regex is compiled once however many requests it is tried on.
public final class RegexCache {
    private var compiled: [String: NSRegularExpression?] = [:]

    public init() {}

    /// Whether the regex matches the whole text (Envoy's safe_regex semantics). Foundation's engine stands in for
    /// RE2 here; for the regexes Attaché accepts, the two agree on what they match.
    func fullMatch(_ regex: String, _ text: String, caseInsensitive: Bool) -> Bool {
        let key = (caseInsensitive ? "i:" : "s:") + regex
        if compiled[key] == nil {
            compiled[key] = .some(
                try? NSRegularExpression(pattern: "^(?:\(regex))$", options: caseInsensitive ? [.caseInsensitive] : []))
        }
        guard let expression = compiled[key] ?? nil else { return false }
        return expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// `text` with every match of the rewrite's pattern replaced by its substitution (`\1` for a group, as RE2
    /// writes it), as Envoy's regex_rewrite does; nil when Foundation cannot read the pattern.
    func replacing(_ rewrite: RegexRewrite, in text: String) -> String? {
        let key = "r:" + rewrite.pattern
        if compiled[key] == nil { compiled[key] = .some(try? NSRegularExpression(pattern: rewrite.pattern)) }
        guard let expression = compiled[key] ?? nil else { return nil }
        // RE2 substitutions name groups `\N`; Foundation templates `$N`, and take `$` and `\` literally only escaped.
        var template = ""
        let characters = Array(rewrite.substitution)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\", index + 1 < characters.count, characters[index + 1].isNumber {
                template += "$" + String(characters[index + 1])
                index += 2
                continue
            }
            template += character == "$" ? "\\$" : character == "\\" ? "\\\\" : String(character)
            index += 1
        }
        return expression.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: template)
    }
}

/// The first condition of `route` that `request` fails, or nil when it matches.
func mismatch(_ route: Route, _ request: ProbeRequest, regexes: RegexCache) -> MismatchReason? {
    switch route.pathMatch {
    case .prefix:
        let matches =
            route.caseSensitive
            ? request.path.hasPrefix(route.prefix) : request.path.lowercased().hasPrefix(route.prefix.lowercased())
        if !matches { return .path(expected: route.prefix, kind: .prefix) }
    case .exact:
        let matches =
            route.caseSensitive ? request.path == route.prefix : request.path.lowercased() == route.prefix.lowercased()
        if !matches { return .path(expected: route.prefix, kind: .exact) }
    case .regex:
        if !regexes.fullMatch(route.prefix, request.path, caseInsensitive: !route.caseSensitive) {
            return .path(expected: route.prefix, kind: .regex)
        }
    }
    for header in route.headers {
        let value: String?
        switch header.name {
        case ":authority": value = request.host
        case ":method": value = request.method
        default: value = request.headers.first { $0.name == header.name.lowercased() }?.value
        }
        if let reason = headerMismatch(header, value, query: false, regexes: regexes) { return reason }
    }
    for parameter in route.queryParameters {
        if let reason = headerMismatch(
            parameter, request.query.first { $0.name == parameter.name }?.value, query: true, regexes: regexes)
        {
            return reason
        }
    }
    return nil
}

private func headerMismatch(_ matcher: HeaderMatcher, _ value: String?, query: Bool, regexes: RegexCache)
    -> MismatchReason?
{
    let described: String
    let matches: Bool
    switch matcher.value {
    case .exact(let expected):
        described = "\"\(expected)\""
        matches =
            value.map { matcher.name == ":authority" ? $0.lowercased() == expected.lowercased() : $0 == expected }
            ?? false
    case .regex(let regex):
        described = regex == ".*" ? "(any value)" : "/\(regex)/"
        matches = value.map { regexes.fullMatch(regex, $0, caseInsensitive: false) } ?? false
    case .hostGlob(let glob):
        described = glob
        matches = value.map { HostGlob(glob).matches($0) } ?? false
    }
    if matches { return nil }
    switch matcher.name {
    case ":authority": return .host(described)
    case ":method": return .method(described)
    default:
        if value == nil { return query ? .queryMissing(matcher.name) : .headerMissing(matcher.name) }
        return query
            ? .queryDifferent(name: matcher.name, expected: described)
            : .headerDifferent(name: matcher.name, expected: described)
    }
}

/// The path the upstream sees: Envoy's `prefix_rewrite` replaces the matched prefix, or the whole path for exact
/// and regex matches; the query string stays.
func rewrittenPath(_ route: Route, _ request: ProbeRequest, regexes: RegexCache = RegexCache()) -> String {
    if let regex = route.settings.regexRewrite {
        // Envoy rewrites the path without the query, and keeps the query.
        let path = regexes.replacing(regex, in: request.path) ?? request.path
        return request.query.isEmpty ? path : path + "?" + request.pathWithQuery.split(separator: "?", maxSplits: 1)[1]
    }
    guard let rewrite = route.settings.prefixRewrite else { return request.pathWithQuery }
    var path: String
    switch route.pathMatch {
    case .prefix: path = rewrite + request.path.dropFirst(route.prefix.count)
    case .exact, .regex: path = rewrite
    }
    if !request.query.isEmpty { path += "?" + request.pathWithQuery.split(separator: "?", maxSplits: 1)[1] }
    return path
}
