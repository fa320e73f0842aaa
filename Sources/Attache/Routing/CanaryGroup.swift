/// Mappings that Emissary treats as one canary group: the same prefix, header matchers (with `:authority` and
/// `:method`), query parameters and precedence. `rewrite`, `service`, `weight`, `prefix_regex` and
/// `case_sensitive` are not part of the key, so they may differ inside a group.
public struct CanaryGroup: Sendable, Equatable {
    /// Routes in weight order: weighted Mappings first, then unweighted ones (SEMANTICS.md §3).
    public var routes: [Route]
    /// The group's place in the route table (higher first).
    public var order: RouteOrderKey
}

/// A canary group's identity: the text of `canaryGroupKey`, hashed once, when the Mapping is decoded (in
/// parallel, and once per change in the sidecar), so that grouping 14,000 Mappings hashes integers, not strings
/// holding a prefix and every matcher.
public typealias CanaryGroupKey = Prehashed<String>

/// The text that identifies a canary group. Header order is kept as written, as Emissary's group id does.
func canaryGroupKey(precedence: Int, prefix: String, headers: [HeaderMatcher], queryParameters: [HeaderMatcher]) -> String {
    var key = "\(precedence)\u{0}\(prefix)"
    for header in headers {
        key += "\u{0}h\(header.isRegex ? "r" : "")\u{0}\(header.name)\u{0}\(header.valueText)"
    }
    for parameter in queryParameters {
        key += "\u{0}q\(parameter.isRegex ? "r" : "")\u{0}\(parameter.name)\u{0}\(parameter.valueText)"
    }
    return key
}
