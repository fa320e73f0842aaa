/// What one run of the pipeline is told besides its input, by concern: each stage is handed only its own part.
public struct TranslationOptions: Sendable, Equatable {
    /// Which objects are ours, and where bare service names resolve: read by decoding and routing.
    public var installation = AmbassadorInstallation()
    /// Where the Envoy that runs the output listens: read by the Envoy stage.
    public var envoy = EnvoyAddresses()
    /// How endpoint clusters get their members: read by the Envoy stage.
    public var endpointDelivery = EndpointDelivery.inline
    /// `--rollout NAME=step:N|weight:W`, by `name` or `namespace/name`: read by the Rollout stage.
    public var rolloutOverrides: [String: RolloutOverride] = [:]

    public init() {}
}

/// The Ambassador installation Attaché stands in for.
public struct AmbassadorInstallation: Sendable, Equatable {
    /// Objects whose `ambassador_id` does not name this id (or `_automatic_`) are someone else's.
    public var id = "default"
    /// The namespace Ambassador itself runs in; unqualified service names resolve there.
    public var namespace = "default"

    public init() {}
}
