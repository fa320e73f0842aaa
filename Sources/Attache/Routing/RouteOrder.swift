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
/// Positions, not the groups themselves, so that the caller moves each group once into its place. The keys are
/// read in place through a buffer pointer: each copy of one would be reference counts on its strings.
func routeTableOrder(_ orders: [RouteOrderKey]) -> [Int] {
    // Most keys differ in their numbers or in the first bytes of the prefix: compared as integers first.
    let heads = orders.map { ($0.precedence, $0.prefixLength, $0.headerLength, $0.queryLength, TextHead($0.prefix)) }
    let ascending = orders.withUnsafeBufferPointer { orders in
        orders.indices.sorted { a, b in
            let (x, y) = (heads[a], heads[b])
            if x.0 != y.0 { return x.0 < y.0 }
            if x.1 != y.1 { return x.1 < y.1 }
            if x.2 != y.2 { return x.2 < y.2 }
            if x.3 != y.3 { return x.3 < y.3 }
            if x.4 != y.4 { return x.4 < y.4 }
            let order = orders[a].compare(to: orders[b])
            return order != 0 ? order < 0 : a < b
        }
    }
    return ascending.reversed()
}
