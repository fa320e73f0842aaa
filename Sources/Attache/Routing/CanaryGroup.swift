/// Mappings that Emissary treats as one canary group: the same prefix, header matchers (with `:authority` and
/// `:method`), query parameters and precedence. `rewrite`, `service`, `weight` and `case_sensitive` are not part of
/// the key, so they may differ inside a group; `prefix_regex`, `prefix_exact`, the header matchers themselves and
/// `connect_timeout_ms` may not (`admitToGroup`).
public struct CanaryGroup: Sendable, Equatable {
    /// Routes in weight order: weighted Mappings first, then unweighted ones (SEMANTICS.md §3).
    public var routes: [Route]
    /// The group's place in the route table (higher first).
    public var order: RouteOrderKey

    /// Each route's share of the group's traffic: its threshold minus the highest threshold before it.
    public var shares: [Int] {
        var previous = 0
        return routes.map { route in
            defer { previous = max(previous, route.cumulativeWeight) }
            return max(0, route.cumulativeWeight - previous)
        }
    }
}

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
func canaryGroupKey(precedence: Int, prefix: String, headers: [HeaderMatcher], queryParameters: [HeaderMatcher]) -> String {
    var key = "HTTP-GET" + prefix
    for matcher in headers + queryParameters {
        key += matcher.name
        key += matcher.valueText
    }
    if precedence != 0 { key += String(precedence) }
    return key
}
