// The pipeline every command shares:
//
//   SourceFile bytes → YAML nodes → Kubernetes objects → Ambassador resources (+ Rollouts' canary Mappings)
//   → routing model → Envoy resources
//
// `translate(_:options:)` runs it; every command (translate, diff, explain, rollout, watch) is a thin front.

/// The result of one run of the pipeline.
public struct Translation: Sendable {
    /// False when the input could not be read at all (unreadable path, YAML syntax error): nothing was translated.
    public var isComplete: Bool
    public var resources: AmbassadorResources
    public var model: RoutingModel
    public var envoy: EnvoyConfig
    public var diagnostics: [Diagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    /// translate's exit status: 0 clean (warnings allowed), 1 some objects rejected, 2 nothing translated.
    public var exitStatus: Int32 { exitStatus(strict: false) }

    /// The exit status; with `strict` (`--strict`, for CI gates) a warning counts as a rejection: 1.
    public func exitStatus(strict: Bool) -> Int32 {
        if !isComplete { return 2 }
        return hasErrors || (strict && diagnostics.contains { $0.severity == .warning }) ? 1 : 0
    }
}

/// The objects read from the inputs, decoded for Ambassador, in input order, and whether every input could be read.
public struct ParsedInput: Sendable {
    public var objects: [AmbassadorObject]
    /// False when a path was unreadable or a file was not valid YAML: then nothing is translated.
    public var isComplete: Bool
    public var log: DiagnosticLog
}

/// Stages 1–3: sources → YAML → Kubernetes objects (annotation documents included) → each decoded for Ambassador as
/// soon as its document is read (`decodeAmbassadorObject`, on the parse workers). With a `cache` (the sidecar),
/// documents unchanged since its last run are neither parsed nor decoded again.
public func parseSources(
    _ sources: [SourceFile], loadDiagnostics: DiagnosticLog = DiagnosticLog(),
    cache: DocumentCache<AmbassadorObject>? = nil,
    options: TranslationOptions
) -> ParsedInput {
    var log = loadDiagnostics
    var isComplete = !loadDiagnostics.hasErrors
    var objects: [AmbassadorObject] = []
    let ambassadorID = options.installation.id
    let decode: @Sendable (KubernetesObject) -> AmbassadorObject = {
        decodeAmbassadorObject($0, ambassadorID: ambassadorID)
    }
    for source in sources {
        let read =
            cache.map { $0.objects(for: source, decode: decode, log: &log) }
            ?? readKubernetesObjects(from: source, decode: decode, log: &log)
        if let fileObjects = read {
            // One input file (the usual case) hands over its array as it is: appending would copy every object.
            if objects.isEmpty { objects = fileObjects } else { objects.append(contentsOf: fileObjects) }
        } else {
            isComplete = false
        }
    }
    cache?.endRun()
    return ParsedInput(objects: objects, isComplete: isComplete, log: log)
}

/// Stages 4–6: Ambassador objects → Ambassador resources → routing model → Envoy resources.
///
/// Takes the parsed input by value and lets go of it once the resources are collected: nothing after this stage
/// needs the objects.
public func translateObjects(_ input: consuming ParsedInput, options: TranslationOptions) -> Translation {
    var log = input.log
    guard input.isComplete else {
        let model = RoutingModel()
        return Translation(
            isComplete: false, resources: AmbassadorResources(), model: model,
            envoy: buildEnvoyConfig(model, addresses: options.envoy, delivery: options.endpointDelivery),
            diagnostics: log.sorted)
    }
    var resources = collectAmbassadorResources(input.objects, log: &log)
    // Freed here, before the model is built, on all processors: freed on another thread while the model is built,
    // both threads would contend for the allocator.
    let objects = input.objects
    _ = consume input
    releaseInParallel(consume objects)
    applyRollouts(&resources, overrides: options.rolloutOverrides, log: &log)
    let model = buildRoutingModel(resources, ambassadorNamespace: options.installation.namespace, log: &log)
    let envoy = buildEnvoyConfig(model, addresses: options.envoy, delivery: options.endpointDelivery)
    return Translation(isComplete: true, resources: resources, model: model, envoy: envoy, diagnostics: log.sorted)
}

/// Runs the whole pipeline on already-loaded sources. Pure: no files, clocks or environment.
public func translate(
    _ sources: [SourceFile], options: TranslationOptions, loadDiagnostics: DiagnosticLog = DiagnosticLog()
) -> Translation {
    translateObjects(parseSources(sources, loadDiagnostics: loadDiagnostics, options: options), options: options)
}
