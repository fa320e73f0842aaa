import YAML

// Early decoding: the part of collecting Ambassador resources that needs nothing but one object and the options,
// done by the parse workers right after each document is read. The object's node tree can then be let go at once,
// so a large file never has all its trees in memory, and the decoding runs on every processor next to the parse.
// `collectAmbassadorResources` uses these results when present and decodes from the tree otherwise; both give
// the same resources (tested on every fixture).

/// What early decoding found for one object.
struct EarlyDecoding: Sendable {
    /// What the object is to Ambassador (worked out from apiVersion and kind once, not on every sidecar run).
    var role: ObjectRole
    /// Whether a Mapping carries this Ambassador's `ambassador_id`, and what checking it reported.
    var ours: (isOurs: Bool, diagnostics: [Diagnostic])?
    /// A Service, Endpoints or EndpointSlice.
    var endpointObject: DecodedEndpointObject?
    /// A Mapping, decoded with `regexMaxSize` (the Module, read later, may set another limit).
    var mapping: (mapping: Mapping?, diagnostics: [Diagnostic], regexMaxSize: Int)?
}

/// Stage (early part of collecting): decodes `object` if its kind allows it, records the result in
/// `object.early`, and releases its tree when no later stage can need it.
///
/// Kept trees: Modules, resolvers, Rollouts and unsupported Ambassador kinds (read in `collectAmbassadorResources`),
/// and Mappings that failed to decode or use a regex, because regex checks depend on the Module's
/// `regex_max_size` and may have to be redone.
func decodeEarly(_ object: KubernetesObject, options: TranslationOptions) {
    let role = ObjectRole(apiVersion: annotationNormalizedVersion(object), kind: object.kind)
    if isSkippedAnnotation(object) {
        object.early = EarlyDecoding(role: role)
        object.releaseTree()  // rejected for its apiVersion alone
        return
    }
    switch role {
    case .service, .endpoints, .endpointSlice:
        object.early = EarlyDecoding(role: role, endpointObject: decodeEndpointObject(object, role: role))
        object.releaseTree()
    case .mapping:
        var oursLog = DiagnosticLog()
        let ours = isOurs(object, options: options, log: &oursLog)
        var early = EarlyDecoding(role: role, ours: (ours, oursLog.items))
        guard ours else {
            object.early = early
            object.releaseTree()
            return
        }
        var mappingLog = DiagnosticLog()
        let regexMaxSize = AmbassadorDefaults.regexMaxProgramSize
        let mapping = decodeMapping(object, regexMaxSize: regexMaxSize, log: &mappingLog)
        early.mapping = (mapping, mappingLog.items, regexMaxSize)
        object.early = early
        if let mapping, !mapping.usesRegex { object.releaseTree() }
    case .ignored:
        object.early = EarlyDecoding(role: role)
        object.releaseTree()
    case .module, .resolver, .rollout, .unsupportedAmbassadorKind:
        object.early = EarlyDecoding(role: role)
    }
}

/// `isOurs`, from early decoding when it was done.
func isOursUsingEarly(_ object: KubernetesObject, options: TranslationOptions, log: inout DiagnosticLog) -> Bool {
    guard let early = object.early?.ours else { return isOurs(object, options: options, log: &log) }
    for diagnostic in early.diagnostics { log.add(diagnostic) }
    return early.isOurs
}

/// The early decoding of a Mapping object when it holds for `regexMaxSize`: it was made with that limit, or the
/// Mapping has no regex (then the tree is gone and the limit cannot matter).
func earlyMapping(_ object: KubernetesObject, regexMaxSize: Int) -> (Mapping?, [Diagnostic])? {
    guard let early = object.early?.mapping, early.regexMaxSize == regexMaxSize || !object.hasTree else { return nil }
    return (early.mapping, early.diagnostics)
}

extension Mapping {
    /// True when any match of this Mapping is a regex (path, header, query parameter, host or method).
    var usesRegex: Bool {
        match.pathMatch == .regex || match.headers.contains(where: \.isRegex) || match.queryParameters.contains(where: \.isRegex)
    }
}
