import Foundation

/// Reading the inputs from the Kubernetes API instead of paths: every pipeline command accepts these.
let kubernetesOptionTable: [ArgumentParser.Option] = [
    .init(
        name: "--kubernetes", takesValue: false,
        help: "read the inputs from the Kubernetes API (the pod's service account, else a kubeconfig) instead of paths"
    ),
    .init(
        name: "--kubeconfig", takesValue: true,
        help: "with --kubernetes: the kubeconfig (default $KUBECONFIG, else ~/.kube/config)", valueName: "PATH"),
    .init(
        name: "--context", takesValue: true, help: "with --kubernetes: the kubeconfig context (default: current)",
        valueName: "NAME"),
    .init(
        name: "--namespace", takesValue: true,
        help: "with --kubernetes: read only this namespace (repeatable; default: the whole cluster)",
        valueName: "NS"),
    .init(
        name: "--label-selector", takesValue: true,
        help: "with --kubernetes: read only objects with these labels (Services and Ambassador resources)",
        valueName: "SELECTOR"),
]

/// The Kubernetes source the arguments ask for; nil without `--kubernetes`. `say` gets the source's own messages
/// (connection problems, collections not served). Throws a usage error for a kubeconfig it cannot use.
func kubernetesSource(
    _ parsed: ArgumentParser, syncTimeout: TimeInterval, say: @escaping @Sendable (InputMessageLevel, String) -> Void
) throws(UsageError) -> KubernetesInputSource? {
    guard parsed.has("--kubernetes") else {
        for option in ["--kubeconfig", "--context", "--namespace", "--label-selector"] where parsed.value(option) != nil
        {
            throw UsageError(message: "\(option) is for --kubernetes")
        }
        return nil
    }
    let access: ClusterAccess
    do {
        access = try findClusterAccess(kubeconfig: parsed.value("--kubeconfig"), context: parsed.value("--context"))
    } catch {
        throw UsageError(message: "--kubernetes: \(error.description)")
    }
    var settings = WatchSettings()
    settings.namespaces = parsed.allValues("--namespace")
    settings.labelSelector = parsed.value("--label-selector")
    return KubernetesInputSource(access: access, settings: settings, syncTimeout: syncTimeout, say: say)
}

/// The source's messages on standard error, for the one-shot commands: problems only (progress is the sidecar's).
func standardErrorSay(_ io: CommandIO, command: String) -> @Sendable (InputMessageLevel, String) -> Void {
    let box = UncheckedBox(io)
    let lock = NSLock()
    return { level, message in
        guard level != .info else { return }
        lock.lock()
        defer { lock.unlock() }
        box.value.writeErr("attache \(command): kubernetes: \(message)")
    }
}

/// A value handed to another thread that only calls thread-safe parts of it.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
