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
    static let unknown = RouteOrderKey(precedence: 0, prefixLength: 0, headerLength: 0, queryLength: 0, prefix: "", keys: [])

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

    public static func < (a: RouteOrderKey, b: RouteOrderKey) -> Bool {
        if a.precedence != b.precedence { return a.precedence < b.precedence }
        if a.prefixLength != b.prefixLength { return a.prefixLength < b.prefixLength }
        if a.headerLength != b.headerLength { return a.headerLength < b.headerLength }
        if a.queryLength != b.queryLength { return a.queryLength < b.queryLength }
        if a.prefix != b.prefix { return codePointLess(a.prefix, b.prefix) }
        for (x, y) in zip(a.keys, b.keys) where x != y { return codePointLess(x, y) }
        return a.keys.count < b.keys.count
    }
}

/// Puts groups in route-table order: highest key first; equal keys keep the **reverse** of the order in which the
/// groups were formed. This mirrors Emissary's `reversed(sorted(groups, key=route_weight))`: a stable ascending
/// sort, then reversed.
func orderedGroups(_ groups: [CanaryGroup]) -> [CanaryGroup] {
    // Sorting positions, not the groups themselves: moving a group moves its routes' dozens of fields.
    let ascending = groups.indices.sorted { a, b in
        if groups[a].order != groups[b].order { return groups[a].order < groups[b].order }
        return a < b
    }
    return ascending.reversed().map { groups[$0] }
}
