// The Kubernetes API as an input source: the same pipeline as files, fed from reflectors' store. Each object is one
// source text (its JSON), named `Kind namespace/name@resourceVersion`, so that diagnostics point at the object and
// its version instead of a file and line, and the sidecar's document cache skips objects that did not change.

import Foundation
import Synchronization

/// Lists and watches the API server (one reflector thread per collection) and hands out snapshots of what it holds.
/// A snapshot is complete only once every collection's first LIST has finished: never a config from half a
/// cluster.
public final class KubernetesInputSource: InputSource, @unchecked Sendable {
    public let access: ClusterAccess
    public let settings: WatchSettings
    /// How long `snapshot` waits for the first LISTs before it reports the input as incomplete.
    public let syncTimeout: TimeInterval
    let store = ObjectStore()
    private let say: @Sendable (InputMessageLevel, String) -> Void
    private let stopped = StopFlag()
    private var started = false
    private var seenGeneration = -1

    public init(
        access: ClusterAccess, settings: WatchSettings = WatchSettings(), syncTimeout: TimeInterval = 120,
        say: @escaping @Sendable (InputMessageLevel, String) -> Void
    ) {
        self.access = access
        self.settings = settings
        self.syncTimeout = syncTimeout
        self.say = say
    }

    deinit { stop() }

    public var description: String { "the Kubernetes API at \(access.server) (\(access.origin))" }

    /// Starts the reflectors (once).
    public func start() {
        guard !started else { return }
        started = true
        let namespaces: [String?] = settings.namespaces.isEmpty ? [nil] : settings.namespaces
        for resource in watchedResources {
            for namespace in namespaces {
                let reflector = Reflector(
                    resource: resource, namespace: namespace, access: access, settings: settings, store: store,
                    say: say, shouldStop: { [stopped] in stopped.isSet })
                store.expect(reflector.collection)
                Thread.detachNewThread { reflector.run() }
            }
        }
    }

    /// Stops the reflectors (each ends its request within about a second).
    public func stop() { stopped.set() }

    public func snapshot() -> InputSnapshot {
        start()
        var log = DiagnosticLog()
        let synced = store.waitForSync(until: Date().addingTimeInterval(syncTimeout), shouldStop: { stopped.isSet })
        let (objects, unsynced, generation) = store.contents()
        seenGeneration = generation
        if !synced {
            for (collection, problem) in unsynced.sorted(by: { $0.key < $1.key }) {
                log.error(
                    .kubernetesUnavailable,
                    "\(collection): not read from \(access.server) within \(Int(syncTimeout)) s (\(problem)); nothing is translated until every collection is",
                    at: nil)
            }
        }
        let sources = objects.map { entry in
            let kind = entry.collection.split(separator: "@").first.map(String.init) ?? entry.collection
            return SourceFile(name: "\(kind) \(entry.key)@\(entry.object.resourceVersion)", bytes: entry.object.json)
        }
        return InputSnapshot(sources: sources, diagnostics: log)
    }

    public func waitForChange(timeout: TimeInterval, holdOff: TimeInterval, cap: TimeInterval, shouldStop: () -> Bool)
        -> Bool
    {
        start()
        let deadline = Date().addingTimeInterval(timeout)
        var generation = store.waitForGeneration(after: seenGeneration, until: deadline, shouldStop: shouldStop)
        guard generation != seenGeneration else { return false }
        // A burst of events (a rollout touching many objects) is settled first: quiet for `holdOff`, at most `cap`.
        let capAt = Date().addingTimeInterval(cap)
        while Date() < capAt, !shouldStop() {
            let next = store.waitForGeneration(
                after: generation, until: min(capAt, Date().addingTimeInterval(holdOff)), shouldStop: shouldStop)
            if next == generation { break }
            generation = next
        }
        return true
    }
}

/// A flag set once, read from any thread (as `SidecarControl`, which a later stage owns).
final class StopFlag: Sendable {
    private let value = Atomic(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}
