/// Remembers how each Mapping object decoded, for the sidecar: DocumentCache hands back the same object instances
/// for unchanged documents, so their Mappings need not be decoded again.
///
/// Entries hold their object, so an identity seen here cannot be reused by a new object while its entry lives.
public final class DecodeCache: @unchecked Sendable {  // used by one sidecar loop at a time
    struct Decoded {
        let object: KubernetesObject
        let regexMaxSize: Int
        let mapping: Mapping?
        let diagnostics: [Diagnostic]
    }

    private var entries: [ObjectIdentifier: Decoded] = [:]
    private var used: [ObjectIdentifier: Decoded] = [:]

    public init() {}

    /// The decoded Mapping and its diagnostics, when this object was decoded before with the same limit.
    func cached(_ object: KubernetesObject, regexMaxSize: Int) -> (Mapping?, [Diagnostic])? {
        let id = ObjectIdentifier(object)
        guard let hit = entries[id] ?? used[id], hit.object === object, hit.regexMaxSize == regexMaxSize else { return nil }
        used[id] = hit
        return (hit.mapping, hit.diagnostics)
    }

    /// Records how `object` decoded, for the next run.
    func remember(_ object: KubernetesObject, regexMaxSize: Int, mapping: Mapping?, diagnostics: [Diagnostic]) {
        used[ObjectIdentifier(object)] = Decoded(object: object, regexMaxSize: regexMaxSize, mapping: mapping, diagnostics: diagnostics)
    }

    /// Ends a run: what this run did not use is forgotten.
    func endRun() {
        entries = used
        used = [:]
    }
}
