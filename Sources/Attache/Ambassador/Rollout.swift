// Rollouts: Argo Rollouts' Ambassador integration, done here instead of by the controller.
//
// For each stable Mapping a Rollout lists, the Argo controller creates `<name>-canary` pointing at the canary
// service with the weight of the current step, and deletes it at the end. `applyRollouts` makes the same Mappings
// from the Rollout's spec and status (or a `--rollout` override), so that a Rollout can be previewed step by step
// and served without the controller writing Mappings into the cluster.

import YAML

/// An `argoproj.io/v1alpha1 Rollout` with an Ambassador canary strategy: what decides the canary Mappings.
public struct Rollout: Sendable {
    /// One canary step. Only the kinds that change routing are told apart.
    public enum Step: Sendable, Equatable {
        case setWeight(Int)
        case pause(duration: String?)
        /// Attaché's extension (Argo rejects it for Ambassador): send requests matching `match` to the canary.
        /// An empty `match` removes the route of that name.
        case setHeaderRoute(name: String, match: [HeaderRouteMatch])
        case other(String)
    }

    /// A header condition of a `setHeaderRoute` step.
    public struct HeaderRouteMatch: Sendable, Equatable {
        public enum Kind: String, Sendable { case exact, prefix, regex }
        public var header: String
        public var kind: Kind
        public var value: String
    }

    public var reference: ObjectReference
    public var location: SourceLocation
    public var stableService: String?
    public var canaryService: String?
    /// What `spec.strategy.canary.trafficRouting` names (`ambassador`, `istio`, `smi`, `nginx`, `plugins`, ...);
    /// nil without traffic routing (the controller then splits by replica counts).
    public var router: String?
    /// `spec.strategy.canary.trafficRouting.ambassador.mappings`.
    public var mappings: [String]
    public var steps: [Step]
    public var aborted: Bool
    public var stableRS: String?
    public var currentPodHash: String?
    public var currentStepIndex: Int?
}

/// How a preview overrides a Rollout's state: `--rollout NAME=step:N` or `--rollout NAME=weight:W`.
public enum RolloutOverride: Sendable, Equatable {
    case step(Int)
    case weight(Int)

    /// Parses `NAME=step:N` / `NAME=weight:W`; NAME is `name` or `namespace/name`.
    public static func parse(_ text: String) -> (name: String, override: RolloutOverride)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let name = String(text[..<equals])
        let value = text[text.index(after: equals)...]
        guard !name.isEmpty else { return nil }
        if value.hasPrefix("step:"), let n = Int(value.dropFirst(5)), n >= 0 { return (name, .step(n)) }
        if value.hasPrefix("weight:"), let w = Int(value.dropFirst(7)), (0...100).contains(w) {
            return (name, .weight(w))
        }
        return nil
    }
}

/// Decodes a Rollout; nil (with an error) when it is not a mapping. Only its Ambassador routing part is read.
func decodeRollout(_ object: KubernetesObject, log: inout DiagnosticLog) -> Rollout? {
    let canary = object.body["spec"]?["strategy"]?["canary"]
    var steps: [Rollout.Step] = []
    for step in canary?["steps"]?.sequence ?? [] {
        if let weight = step["setWeight"] {
            if case .int(let w)? = weight.resolved, (0...100).contains(w) {
                steps.append(.setWeight(w))
            } else {
                log.error(
                    .rolloutInvalid, "`setWeight` must be an integer from 0 to 100", at: object.location(of: weight),
                    object: object.reference)
                return nil
            }
        } else if let pause = step["pause"] {
            steps.append(.pause(duration: pause["duration"]?.scalarText))
        } else if let route = step["setHeaderRoute"] {
            guard let name = route["name"]?.scalarText else {
                log.error(
                    .rolloutInvalid, "`setHeaderRoute` needs a `name`", at: object.location(of: route),
                    object: object.reference)
                return nil
            }
            var matches: [Rollout.HeaderRouteMatch] = []
            for match in route["match"]?.sequence ?? [] {
                guard let header = match["headerName"]?.scalarText, let value = match["headerValue"],
                    let (kind, text) = [Rollout.HeaderRouteMatch.Kind.exact, .prefix, .regex].lazy
                        .compactMap({ kind in value[kind.rawValue]?.scalarText.map { (kind, $0) } }).first
                else {
                    log.error(
                        .rolloutInvalid,
                        "each `setHeaderRoute.match` needs `headerName` and `headerValue` with `exact`, `prefix` or `regex`",
                        at: object.location(of: match), object: object.reference)
                    return nil
                }
                matches.append(Rollout.HeaderRouteMatch(header: header, kind: kind, value: text))
            }
            steps.append(.setHeaderRoute(name: name, match: matches))
        } else {
            steps.append(.other(step.mapping?.first?.key.scalarText ?? "step"))
        }
    }
    let status = object.body["status"]
    var currentStepIndex: Int?
    if let node = status?["currentStepIndex"], case .int(let i)? = node.resolved {
        if i < 0 {
            log.warning(
                .rolloutInvalid, "`status.currentStepIndex` is \(i); read as 0", at: object.location(of: node),
                object: object.reference)
        }
        currentStepIndex = max(0, i)
    }
    let trafficRouting = canary?["trafficRouting"]
    let router =
        trafficRouting?["ambassador"] != nil ? "ambassador" : trafficRouting?.mapping?.first?.key.scalarText
    return Rollout(
        reference: object.reference, location: object.location,
        stableService: canary?["stableService"]?.scalarText, canaryService: canary?["canaryService"]?.scalarText,
        router: router,
        mappings: (canary?["trafficRouting"]?["ambassador"]?["mappings"]?.sequence ?? []).compactMap(\.scalarText),
        steps: steps, aborted: status?["abort"]?.resolved == .bool(true),
        stableRS: status?["stableRS"]?.scalarText, currentPodHash: status?["currentPodHash"]?.scalarText,
        currentStepIndex: currentStepIndex)
}

extension Rollout {
    /// True when the Rollout's traffic routing is Ambassador's. Rollouts routed by Istio, SMI, NGINX, a plugin, or
    /// by replica counts alone are none of Attaché's business.
    var usesAmbassador: Bool { router == "ambassador" }

    /// Argo's `IsFullyPromoted`: the stable ReplicaSet is the current pod template's (`status.stableRS ==
    /// status.currentPodHash`, absent fields counting as empty). A Rollout the controller never reconciled (no
    /// `status`, as in git) is one: Argo deploys it as a first release, the new pods are the stable ones, and no
    /// canary traffic flows.
    var isFullyPromoted: Bool { (stableRS ?? "") == (currentPodHash ?? "") }

    /// The step index the Rollout is at: the override's, else `status.currentStepIndex` (missing = 0).
    func currentStep(_ override: RolloutOverride?) -> Int? {
        // Never negative, whatever the input says: the step ranges below start at 0.
        switch override {
        case .step(let n)?: return max(0, n)
        case .weight?: return nil
        case nil: return max(0, currentStepIndex ?? 0)
        }
    }

    /// The canary weight as the Argo controller decides it: aborted → 0; fully promoted (`isFullyPromoted`, which
    /// includes a Rollout without status) → 0; with steps, the last `setWeight` at or before the current index (0 if none), and 100
    /// once the index reaches the number of steps; no steps → 0. An override replaces the status.
    func canaryWeight(_ override: RolloutOverride?) -> Int {
        if case .weight(let w)? = override { return w }
        if override == nil {
            if aborted { return 0 }
            if isFullyPromoted { return 0 }
        }
        guard !steps.isEmpty, let index = currentStep(override) else { return 0 }
        if index >= steps.count { return 100 }
        var weight = 0
        for step in steps[0...index] {
            if case .setWeight(let w) = step { weight = w }
        }
        return weight
    }

    /// The header routes in force at the current step: each `setHeaderRoute` at or before it, until one of the
    /// same name with no `match` removes it; none once the rollout is over, aborted or promoted.
    func headerRoutes(_ override: RolloutOverride?) -> [(name: String, match: [HeaderRouteMatch])] {
        if override == nil, aborted || isFullyPromoted { return [] }
        guard let index = currentStep(override), index < steps.count else { return [] }
        var routes: [(name: String, match: [HeaderRouteMatch])] = []
        for step in steps[0...index] {
            guard case .setHeaderRoute(let name, let match) = step else { continue }
            routes.removeAll { $0.name == name }
            if !match.isEmpty { routes.append((name, match)) }
        }
        return routes
    }
}
