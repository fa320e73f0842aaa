/// Stage: Rollouts → canary Mappings, added to the resources before routing.
///
/// For each stable Mapping a Rollout lists: `<name>-canary` (the stable name cut to 246 characters), in the
/// Rollout's namespace, a copy of the stable Mapping with the first occurrence of `stableService` in `service`
/// replaced by `canaryService` and `weight` set to the current canary weight; none at weight 0. Header routes
/// (`setHeaderRoute`) add `<name>-canary-<route>` with the route's header matchers and no weight (all matching
/// requests go to the canary). A Rollout with an error changes nothing, as the Argo controller aborts its
/// reconcile; its errors use the controller's words where it has them.
func applyRollouts(
    _ resources: inout AmbassadorResources, overrides: [String: RolloutOverride], log: inout DiagnosticLog
) {
    guard !resources.rollouts.isEmpty || !overrides.isEmpty else { return }
    var byName: [String: Mapping] = [:]
    for mapping in resources.mappings { byName["\(mapping.reference.namespace)/\(mapping.reference.name)"] = mapping }
    var removed = Set<String>()
    var added: [Mapping] = []
    var usedOverrides = Set<String>()

    for rollout in resources.rollouts {
        let qualified = "\(rollout.reference.namespace)/\(rollout.reference.name)"
        var override: RolloutOverride?
        for key in [qualified, rollout.reference.name] where override == nil {
            if let found = overrides[key] {
                override = found
                usedOverrides.insert(key)
            }
        }
        if case .step(let step)? = override, step > rollout.steps.count {
            log.warning(
                .rolloutStepOutOfRange,
                "--rollout asks for step \(step), but Rollout \(rollout.reference.name) has \(rollout.steps.count) step(s): read as its end (step \(rollout.steps.count): all traffic to the canary)",
                at: rollout.location, object: rollout.reference)
        }
        func error(_ code: DiagnosticCode, _ message: String) {
            log.error(
                code, message + "; the Rollout's canary Mappings are not made", at: rollout.location,
                object: rollout.reference)
        }
        guard !rollout.mappings.isEmpty else {
            error(.rolloutNoMappings, "must provide at least one mapping")
            continue
        }
        guard let stableService = rollout.stableService, !stableService.isEmpty,
            let canaryService = rollout.canaryService, !canaryService.isEmpty
        else {
            error(.rolloutServicesInvalid, "the Ambassador integration needs both `stableService` and `canaryService`")
            continue
        }
        guard stableService != canaryService else {
            error(.rolloutServicesInvalid, "`stableService` and `canaryService` are both \"\(stableService)\"")
            continue
        }
        var stables: [Mapping] = []
        var failed = false
        for name in rollout.mappings {
            guard let stable = byName["\(rollout.reference.namespace)/\(name)"] else {
                error(.rolloutMappingNotFound, "Ambassador mapping \"\(name)\" not found")
                failed = true
                break
            }
            if stable.weight != nil {
                error(.rolloutStableMappingWeighted, "Ambassador mapping \"\(name)\" can not define weight")
                failed = true
                break
            }
            stables.append(stable)
        }
        if failed { continue }

        let weight = rollout.canaryWeight(override)
        let headerRoutes = rollout.headerRoutes(override)
        // A header route's matchers reach Envoy as they are: a regex RE2 refuses, or a name Envoy refuses, would
        // make it refuse the whole route configuration. Every step's are checked, not only those in force: the
        // controller reaches the others later, and `rollout plan` writes them all.
        let regexMaxSize = resources.module.regexMaxSize
        let allMatches = rollout.steps.flatMap { step -> [Rollout.HeaderRouteMatch] in
            if case .setHeaderRoute(_, let match) = step { return match }
            return []
        }
        if let problem = allMatches.lazy.compactMap({ headerRouteProblem($0, regexMaxSize: regexMaxSize) }).first {
            error(.rolloutInvalid, problem)
            continue
        }
        for stable in stables {
            let canaryName = String(stable.reference.name.prefix(246)) + "-canary"
            guard let range = stable.upstream.text.range(of: stableService) else {
                log.warning(
                    .rolloutStableServiceNotInMapping,
                    "stable service \"\(stableService)\" does not appear in the `service` \"\(stable.upstream.text)\" of Mapping \(stable.reference.name); Argo Rollouts would leave its canary pointing at the stable service, so no canary Mapping is made",
                    at: stable.upstream.location, object: rollout.reference)
                continue
            }
            var canaryText = stable.upstream.text
            canaryText.replaceSubrange(range, with: canaryService)
            guard case .success(let parsed) = parseServiceReference(canaryText) else {
                error(.rolloutServicesInvalid, "the canary service \"\(canaryText)\" is not a valid `service`")
                continue
            }
            let existingKey = "\(rollout.reference.namespace)/\(canaryName)"
            if let existing = byName[existingKey], !removed.contains(existingKey) {
                log.warning(
                    .rolloutCanaryReplaced,
                    "Mapping \(canaryName) is managed by Rollout \(rollout.reference.name): the one in the input is replaced",
                    at: existing.location, object: existing.reference)
                removed.insert(existingKey)
            }
            if weight > 0 {
                added.append(
                    stable.derived(
                        name: canaryName, location: rollout.location, serviceText: canaryText,
                        service: parsed.reference, weight: weight))
            }
            for route in headerRoutes {
                added.append(
                    stable.derived(
                        name: "\(canaryName)-\(route.name)", location: rollout.location, serviceText: canaryText,
                        service: parsed.reference, weight: nil, extraHeaders: route.match.map(headerMatcher)))
            }
        }
    }
    for key in overrides.keys.sorted() where !usedOverrides.contains(key) {
        log.warning(
            .rolloutOverrideUnused, "--rollout \(key)=... names no Rollout in the input that routes through Ambassador",
            at: nil)
    }
    guard !removed.isEmpty || !added.isEmpty else { return }
    // Back into processing order: by key, then by the order they were in (added ones after the input's).
    let all = resources.mappings.filter { !removed.contains("\($0.reference.namespace)/\($0.reference.name)") } + added
    resources.mappings = codePointOrder(all.map(\.processingKey)).map { all[$0] }
}

/// Why Envoy would refuse a `setHeaderRoute` match as the matcher Attaché writes for it; nil when fine.
private func headerRouteProblem(_ match: Rollout.HeaderRouteMatch, regexMaxSize: Int) -> String? {
    if let problem = envoyHeaderNameProblem(match.header, maxBytes: EnvoyLimits.maxMatcherNameBytes) {
        return "setHeaderRoute `headerName` \"\(abbreviated(match.header))\": \(problem)"
    }
    guard case .regex(let regex) = headerMatcher(match).value else { return nil }
    if let problem = RE2Check.problem(in: regex, maxProgramSize: regexMaxSize) {
        return
            "setHeaderRoute \(match.kind.rawValue) \"\(abbreviated(match.value))\" on \(abbreviated(match.header)) is not a valid RE2 regex: \(problem)"
    }
    return nil
}

/// A `setHeaderRoute` match as a Mapping header matcher: exact → exact; prefix and regex → RE2 regex.
private func headerMatcher(_ match: Rollout.HeaderRouteMatch) -> HeaderMatcher {
    switch match.kind {
    case .exact: return HeaderMatcher(name: match.header, value: .exact(match.value))
    case .prefix: return HeaderMatcher(name: match.header, value: .regex(re2Escaped(match.value) + ".*"))
    case .regex: return HeaderMatcher(name: match.header, value: .regex(match.value))
    }
}

/// `text` as a literal inside an RE2 regex.
func re2Escaped(_ text: String) -> String {
    var result = ""
    for character in text {
        if "\\.+*?()|[]{}^$".contains(character) { result.append("\\") }
        result.append(character)
    }
    return result
}
