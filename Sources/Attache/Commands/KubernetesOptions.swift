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

/// The inputs of a one-shot command (translate, explain, rollout plan): the Kubernetes API with `--kubernetes`, then
/// with no paths, else `paths` (at least one). nil after a usage error, already written; `exitStatus` says how it
/// ended. The caller stops a Kubernetes source when done (`stopIfKubernetes`).
func oneShotInputSource(
    _ command: String, _ parsed: ArgumentParser, paths: [String], excluding: [String] = [], io: CommandIO,
    exitStatus: inout Int32
) -> InputSource? {
    let kubernetes: KubernetesInputSource?
    do {
        kubernetes = try kubernetesSource(parsed, syncTimeout: 60, say: standardErrorSay(io, command: command))
    } catch {
        exitStatus = io.usageError(command, error.message)
        return nil
    }
    guard paths.isEmpty != (kubernetes == nil) else {
        exitStatus = io.usageError(
            command, kubernetes == nil ? "no input paths (or --kubernetes)" : "--kubernetes reads no paths")
        return nil
    }
    return kubernetes ?? FileInputSource(paths: paths, excluding: excluding, readStandardInput: io.readIn)
}

extension InputSource {
    /// Ends a Kubernetes source's watches (the one-shot commands need one snapshot); nothing for files.
    func stopIfKubernetes() { (self as? KubernetesInputSource)?.stop() }
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
