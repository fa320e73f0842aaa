// The two keys Emissary derives from a Mapping's match: which canary group it joins, and where that group goes in
// the route table. Computed once per Mapping when it is decoded (on the parse workers); Routing groups and sorts
// by them.

/// A canary group's identity: the text of `canaryGroupKey`, hashed once, when the Mapping is decoded (in
/// parallel, and once per change in the sidecar), so that grouping 14,000 Mappings hashes integers, not strings
/// holding a prefix and every matcher.
public typealias CanaryGroupKey = Prehashed<String>

/// The text that identifies a canary group: Emissary's `_group_id` before it is hashed, `GET` (the method slot is
/// always GET there: the method is matched, and grouped, as a `:method` header), the prefix, each header's name and
/// value, each query parameter's name and value, and the precedence unless it is 0, run together without
/// separators. Header order is Emissary's (see `decodeMatchers`).
///
/// Two Mappings whose texts collide although their matchers differ (`{ab: c}` and `{a: bc}`, or an exact and a regex
/// matcher with the same text) are one group to Emissary, which then refuses the later one for its different
/// `headers`; `admitToGroup` does the same.
func canaryGroupKey(precedence: Int, prefix: String, headers: [HeaderMatcher], queryParameters: [HeaderMatcher])
    -> String
{
    var key = "HTTP-GET" + prefix
    for matcher in headers + queryParameters {
        key += matcher.name
        key += matcher.valueText
    }
    if precedence != 0 { key += String(precedence) }
    return key
}

/// A canary group's place in the route table, Emissary's `route_weight`:
/// `[precedence, len(prefix), Σ header lengths, Σ query-parameter lengths, prefix, header keys..., query keys...]`,
/// compared element by element as Python compares lists, higher first.
public struct RouteOrderKey: Sendable, Comparable, Equatable {
    public var precedence: Int
    public var prefixLength: Int
    public var headerLength: Int
    public var queryLength: Int
    public var prefix: String
    /// `name-value` of each header matcher, then of each query parameter.
    public var keys: [String]

    /// A key for routes read back from Envoy JSON, where the order is already given.
    static let unknown = RouteOrderKey(
        precedence: 0, prefixLength: 0, headerLength: 0, queryLength: 0, prefix: "", keys: [])

    init(precedence: Int, prefixLength: Int, headerLength: Int, queryLength: Int, prefix: String, keys: [String]) {
        self.precedence = precedence
        self.prefixLength = prefixLength
        self.headerLength = headerLength
        self.queryLength = queryLength
        self.prefix = prefix
        self.keys = keys
    }

    /// The key of a Mapping with these fields (`Mapping.routeOrder`).
    init(precedence: Int, prefix: String, headers: [HeaderMatcher], queryParameters: [HeaderMatcher]) {
        self.precedence = precedence
        prefixLength = prefix.unicodeScalars.count
        headerLength = headers.reduce(0) { $0 + $1.sortLength }
        queryLength = queryParameters.reduce(0) { $0 + $1.sortLength }
        self.prefix = prefix
        keys = headers.map(\.sortKey) + queryParameters.map(\.sortKey)
    }

    public static func < (a: RouteOrderKey, b: RouteOrderKey) -> Bool { a.compare(to: b) < 0 }

    /// Three-way comparison: negative when `self` sorts first, zero when the keys are equal. One pass, where
    /// `!=` followed by `<` compared equal prefixes twice.
    func compare(to other: RouteOrderKey) -> Int {
        if precedence != other.precedence { return precedence < other.precedence ? -1 : 1 }
        if prefixLength != other.prefixLength { return prefixLength < other.prefixLength ? -1 : 1 }
        if headerLength != other.headerLength { return headerLength < other.headerLength ? -1 : 1 }
        if queryLength != other.queryLength { return queryLength < other.queryLength ? -1 : 1 }
        let prefixOrder = codePointCompare(prefix, other.prefix)
        if prefixOrder != 0 { return prefixOrder }
        for (x, y) in zip(keys, other.keys) {
            let order = codePointCompare(x, y)
            if order != 0 { return order }
        }
        return keys.count - other.keys.count
    }
}
