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

/// The route-table order of groups with these keys, as positions: highest key first; equal keys keep the
/// **reverse** of the order in which the groups were formed (their positions here). This mirrors Emissary's
/// `reversed(sorted(groups, key=route_weight))`: a stable ascending sort, then reversed.
///
/// Positions, not the groups themselves, so that the caller moves each group once into its place. (Comparing
/// integer heads of the keys before `compare` saved 0.8 M of the 4.3 G instructions of a 10,000-Mapping run:
/// not worth a second comparison to keep in step with the first.)
func routeTableOrder(_ orders: [RouteOrderKey]) -> [Int] {
    let ascending = orders.indices.sorted { a, b in
        let order = orders[a].compare(to: orders[b])
        return order != 0 ? order < 0 : a < b
    }
    return ascending.reversed()
}
