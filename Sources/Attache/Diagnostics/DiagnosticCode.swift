/// Stable codes for every diagnostic. Users grep for them and CI filters on them: never rename one.
public enum DiagnosticCode: String, Sendable, CaseIterable {
    // Input: files and YAML
    case unreadablePath = "UnreadablePath"
    case kubernetesUnavailable = "KubernetesUnavailable"
    case yamlSyntax = "YAMLSyntax"
    case yamlDuplicateKey = "YAMLDuplicateKey"
    case documentNotMapping = "DocumentNotMapping"
    case objectMissingKind = "ObjectMissingKind"

    // Kubernetes objects and annotations
    case annotationNotString = "AnnotationNotString"
    case annotationSyntax = "AnnotationSyntax"
    case annotationMissingName = "AnnotationMissingName"
    case annotationUnsupportedVersion = "AnnotationUnsupportedVersion"
    case annotationInAnnotation = "AnnotationInAnnotation"
    case objectMissingName = "ObjectMissingName"
    case duplicateObject = "DuplicateObject"
    case unsupportedKind = "UnsupportedKind"
    case unknownAmbassadorVersion = "UnknownAmbassadorVersion"
    case unknownAmbassadorKind = "UnknownAmbassadorKind"
    case notAmbassadorAPIVersion = "NotAmbassadorAPIVersion"
    case ambassadorIDInvalid = "AmbassadorIDInvalid"

    // Mapping fields
    case mappingMissingField = "MappingMissingField"
    case mappingFieldType = "MappingFieldType"
    case mappingFieldValue = "MappingFieldValue"
    case mappingUnsupportedField = "MappingUnsupportedField"
    case mappingFieldNotImplemented = "MappingFieldNotImplemented"
    case mappingUnknownField = "MappingUnknownField"
    case mappingWeightOutOfRange = "MappingWeightOutOfRange"
    case mappingWeightNotNumber = "MappingWeightNotNumber"
    case mappingHostWildcard = "MappingHostWildcard"
    case serviceInvalid = "ServiceInvalid"
    case fieldsShareLine = "FieldsShareLine"
    case unrenderedTemplate = "UnrenderedTemplate"
    case v3MappingWithoutHostname = "V3MappingWithoutHostname"

    // Values Envoy would refuse (EnvoyConstraints.swift): each rejects its object, not the whole config
    case headerNameInvalid = "HeaderNameInvalid"
    case headerValueInvalid = "HeaderValueInvalid"
    case headerNotModifiable = "HeaderNotModifiable"
    case regexInvalid = "RegexInvalid"
    case durationOutOfRange = "DurationOutOfRange"
    case addressInvalid = "AddressInvalid"

    // Canary groups and routing
    case groupWeightsExceed100 = "GroupWeightsExceed100"
    case groupWeightsBelow100 = "GroupWeightsBelow100"
    case groupSettingConflict = "GroupSettingConflict"
    case shadowWithoutPrimary = "ShadowWithoutPrimary"

    // The edge: Listeners, Hosts, TLSContexts, Secrets
    case listenerInvalid = "ListenerInvalid"
    case listenerConflict = "ListenerConflict"
    case hostInvalid = "HostInvalid"
    case hostConflict = "HostConflict"
    case tlsContextInvalid = "TLSContextInvalid"
    case tlsContextConflict = "TLSContextConflict"
    case tlsContextIgnored = "TLSContextIgnored"
    case secretMissing = "SecretMissing"
    case secretInvalid = "SecretInvalid"
    case edgeFieldNotImplemented = "EdgeFieldNotImplemented"
    case edgeFieldIgnored = "EdgeFieldIgnored"
    case edgeUnknownField = "EdgeUnknownField"
    case mappingWithoutHost = "MappingWithoutHost"
    case defaultEdge = "DefaultEdge"
    case authServiceInvalid = "AuthServiceInvalid"
    case authServiceConflict = "AuthServiceConflict"

    // Module
    case moduleSettingIgnored = "ModuleSettingIgnored"
    case moduleFieldType = "ModuleFieldType"

    // Resolvers and endpoints
    case resolverUnknown = "ResolverUnknown"
    case resolverUnsupported = "ResolverUnsupported"
    case endpointsMissing = "EndpointsMissing"
    case endpointPortUnmatched = "EndpointPortUnmatched"

    // Argo Rollouts
    case rolloutInvalid = "RolloutInvalid"
    case rolloutNoMappings = "RolloutNoMappings"
    case rolloutMappingNotFound = "RolloutMappingNotFound"
    case rolloutStableMappingWeighted = "RolloutStableMappingWeighted"
    case rolloutServicesInvalid = "RolloutServicesInvalid"
    case rolloutCanaryReplaced = "RolloutCanaryReplaced"
    case rolloutStableServiceNotInMapping = "RolloutStableServiceNotInMapping"
    case rolloutOverrideUnused = "RolloutOverrideUnused"
    case rolloutStepOutOfRange = "RolloutStepOutOfRange"

    // Output
    case nothingToRoute = "NothingToRoute"
}
