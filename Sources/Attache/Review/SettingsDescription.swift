extension RouteSettings {
    /// Each setting as people read it, in a fixed order: what `diff` compares and prints (and what a new setting
    /// adds a line to).
    public var described: [(name: String, value: String)] {
        func duration(_ ms: Int?) -> String { ms.map { Envoy.duration(milliseconds: $0) } ?? "(none)" }
        func added(_ list: [HeaderAddition]) -> String {
            list.isEmpty ? "(none)" : list.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: ", ")
        }
        func removed(_ list: [String]?) -> String { (list ?? []).sorted().joined(separator: ", ") }
        return [
            ("rewrite", prefixRewrite ?? "(none)"),
            ("host rewrite", hostRewrite ?? "(none)"),
            ("timeout", duration(timeoutMs)),
            ("idle timeout", duration(idleTimeoutMs)),
            ("request headers added", added(addRequestHeaders)),
            ("response headers added", added(addResponseHeaders)),
            ("request headers removed", removed(removeRequestHeaders)),
            ("response headers removed", removed(removeResponseHeaders)),
        ]
    }
}
