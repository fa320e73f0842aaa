// List and watch, as client-go's reflector does it: a paginated LIST, then a WATCH from the list's
// resourceVersion (with bookmarks and a server timeout), events applied to an in-memory store; `410 Gone` (or an
// ERROR event with code 410) → list again; a dropped connection, a 5xx or a 429 → watch again from the last
// resourceVersion after a jittered, growing pause (or the server's Retry-After). One thread per collection.

import Foundation
import KubernetesHTTP

/// The objects read from the API, by collection, with a generation that moves on every change. Shared by the
/// reflectors (writers) and the input source (reader).
final class ObjectStore: @unchecked Sendable {
    /// One object: its resourceVersion and its JSON, pretty-printed so that diagnostics have lines to point at.
    struct StoredObject: Equatable {
        var resourceVersion: String
        var json: [UInt8]
    }

    private let condition = NSCondition()
    private var collections: [String: [String: StoredObject]] = [:]
    private var synced: Set<String> = []
    private var expected: Set<String> = []
    private(set) var generation = 0
    private var lastProblem: [String: String] = [:]

    /// Declares a collection whose initial list must finish before a snapshot is complete.
    func expect(_ collection: String) {
        condition.lock()
        expected.insert(collection)
        condition.unlock()
    }

    /// A collection's whole content, from a LIST: objects not in it are gone. Marks it synced.
    func replace(_ collection: String, with objects: [String: StoredObject]) {
        condition.lock()
        let changed = collections[collection] != objects || !synced.contains(collection)
        collections[collection] = objects
        synced.insert(collection)
        lastProblem[collection] = nil
        if changed { generation += 1 }
        condition.broadcast()
        condition.unlock()
    }

    /// A collection that does not exist (a custom resource whose definition is not installed): synced, empty.
    func markAbsent(_ collection: String) { replace(collection, with: [:]) }

    func put(_ collection: String, key: String, _ object: StoredObject) {
        condition.lock()
        if collections[collection, default: [:]][key] != object {
            collections[collection, default: [:]][key] = object
            generation += 1
            condition.broadcast()
        }
        condition.unlock()
    }

    func remove(_ collection: String, key: String) {
        condition.lock()
        if collections[collection]?.removeValue(forKey: key) != nil {
            generation += 1
            condition.broadcast()
        }
        condition.unlock()
    }

    /// What went wrong last with a collection that has not synced yet (for the message when a snapshot waits too
    /// long).
    func problem(_ collection: String, _ text: String) {
        condition.lock()
        lastProblem[collection] = text
        condition.unlock()
    }

    /// Waits until every expected collection has synced (true), or `deadline`/`shouldStop`.
    func waitForSync(until deadline: Date, shouldStop: () -> Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !expected.isSubset(of: synced) {
            if shouldStop() || Date() >= deadline { return false }
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.2)))
        }
        return true
    }

    /// Waits until the generation differs from `seen`, or `deadline`/`shouldStop`; returns the generation then.
    func waitForGeneration(after seen: Int, until deadline: Date, shouldStop: () -> Bool) -> Int {
        condition.lock()
        defer { condition.unlock() }
        while generation == seen, !shouldStop(), Date() < deadline {
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.2)))
        }
        return generation
    }

    /// Every object, by collection then key, the collections that have not synced with their last problem, and
    /// the generation they are (read together, so that a change made meanwhile is not taken as seen).
    func contents() -> (
        objects: [(collection: String, key: String, object: StoredObject)], unsynced: [String: String],
        generation: Int
    ) {
        condition.lock()
        defer { condition.unlock() }
        var objects: [(String, String, StoredObject)] = []
        for collection in collections.keys.sorted() {
            guard let members = collections[collection] else { continue }
            for key in members.keys.sorted() { objects.append((collection, key, members[key]!)) }
        }
        var unsynced: [String: String] = [:]
        for collection in expected.subtracting(synced) {
            unsynced[collection] = lastProblem[collection] ?? "its first LIST has not finished"
        }
        return (objects, unsynced, generation)
    }
}

/// How the reflectors talk to the API server.
public struct WatchSettings: Sendable {
    /// `--namespace`: watch only these (empty: the whole cluster).
    public var namespaces: [String] = []
    /// `--label-selector`, for the kinds it applies to.
    public var labelSelector: String?
    public var pageSize = 500
    /// The server ends each watch after this long (`timeoutSeconds`), and the reflector watches again.
    public var watchTimeout: TimeInterval = 300
    /// How often a custom resource that is not installed is looked for again.
    public var absentRecheck: TimeInterval = 30
    /// The first pause after a failure; it doubles up to `maximumBackoff`, each with up to 50% jitter.
    public var initialBackoff: TimeInterval = 0.2
    public var maximumBackoff: TimeInterval = 30

    public init() {}
}

/// Lists and watches one collection into the store, on its own thread, until stopped.
final class Reflector: @unchecked Sendable {
    let resource: WatchedResource
    let namespace: String?
    let access: ClusterAccess
    let settings: WatchSettings
    let store: ObjectStore
    let say: @Sendable (InputMessageLevel, String) -> Void
    let shouldStop: @Sendable () -> Bool
    /// The store's name for this collection: `Kind` or `Kind@namespace`.
    let collection: String
    private let connection: HTTPSConnection

    init(
        resource: WatchedResource, namespace: String?, access: ClusterAccess, settings: WatchSettings,
        store: ObjectStore, say: @escaping @Sendable (InputMessageLevel, String) -> Void,
        shouldStop: @escaping @Sendable () -> Bool
    ) {
        self.resource = resource
        self.namespace = namespace
        self.access = access
        self.settings = settings
        self.store = store
        self.say = say
        self.shouldStop = shouldStop
        collection = resource.kind + (namespace.map { "@" + $0 } ?? "")
        connection = HTTPSConnection(tls: access.tls)
    }

    private var description: String {
        "\(resource.plural).\(resource.apiVersion)" + (namespace.map { " in \($0)" } ?? "")
    }

    /// The loop: list, watch until the watch ends or fails, again; pauses after failures.
    func run() {
        var resourceVersion: String?
        var backoff = settings.initialBackoff
        var absentSaid = false
        func pause(_ seconds: TimeInterval) {
            let until = Date().addingTimeInterval(seconds)
            while Date() < until, !shouldStop() { usleep(50_000) }
        }
        func failed(_ text: String, retryAfter: TimeInterval? = nil) {
            store.problem(collection, text)
            say(.warning, "\(description): \(text); trying again")
            let jitter = Double.random(in: 0...0.5) * backoff
            pause(retryAfter ?? (backoff + jitter))
            backoff = min(settings.maximumBackoff, backoff * 2)
        }
        while !shouldStop() {
            if resourceVersion == nil {
                switch list() {
                case .listed(let version):
                    resourceVersion = version
                    backoff = settings.initialBackoff
                    if absentSaid { say(.info, "\(description): now served") }
                    absentSaid = false
                case .absent:
                    store.markAbsent(collection)
                    if !absentSaid {
                        say(
                            .notice,
                            "\(description) is not served (its CustomResourceDefinition is not installed); looking again every \(Int(settings.absentRecheck)) s"
                        )
                        absentSaid = true
                    }
                    pause(settings.absentRecheck)
                    continue
                case .failed(let text, let retryAfter):
                    failed(text, retryAfter: retryAfter)
                    continue
                case .stopped:
                    return
                }
            }
            switch watch(from: resourceVersion ?? "") {
            case .ended(let version):
                resourceVersion = version
                backoff = settings.initialBackoff
            case .gone:
                say(
                    .info,
                    "\(description): resourceVersion \(resourceVersion ?? "") is too old (410 Gone); listing again")
                resourceVersion = nil
            case .failed(let text, let retryAfter, let version):
                resourceVersion = version
                failed(text, retryAfter: retryAfter)
            case .stopped:
                return
            }
        }
    }

    enum ListResult {
        case listed(resourceVersion: String)
        case absent
        case failed(String, retryAfter: TimeInterval?)
        case stopped
    }

    /// A paginated LIST (`limit`, `continue`) into the store; its resourceVersion is where the watch starts.
    private func list() -> ListResult {
        var objects: [String: ObjectStore.StoredObject] = [:]
        var continueToken: String?
        var resourceVersion = ""
        var restarts = 0
        while !shouldStop() {
            var query = ["limit=\(settings.pageSize)"]
            if let token = continueToken { query.append("continue=" + percentEncoded(token)) }
            query += selectors()
            let url = access.server + resource.path(namespace: namespace) + "?" + query.joined(separator: "&")
            let answer: HTTPAnswer
            do {
                answer = try connection.get(url, headers: access.headers(), timeout: 60)
            } catch .stopped {
                return .stopped
            } catch {
                return .failed("LIST failed: \(error)", retryAfter: nil)
            }
            if answer.status == 404, resource.optional { return .absent }
            if answer.status == 410 {
                // The continue token expired: start the list over (a few times; then the reflector's pause).
                restarts += 1
                guard restarts <= 3 else { return .failed("LIST kept expiring (410) between pages", retryAfter: nil) }
                objects = [:]
                continueToken = nil
                continue
            }
            guard answer.status == 200 else { return .failed(refusal("LIST", answer), retryAfter: answer.retryAfter) }
            guard let json = try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any] else {
                return .failed("LIST answered something that is not a JSON list", retryAfter: nil)
            }
            let metadata = json["metadata"] as? [String: Any] ?? [:]
            resourceVersion = metadata["resourceVersion"] as? String ?? resourceVersion
            for item in json["items"] as? [[String: Any]] ?? [] where isKept(item) {
                if let (key, stored) = storedObject(item) { objects[key] = stored }
            }
            continueToken = (metadata["continue"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            if continueToken == nil { break }
        }
        if shouldStop() { return .stopped }
        store.replace(collection, with: objects)
        return .listed(resourceVersion: resourceVersion)
    }

    enum WatchResult {
        /// The server ended the watch (its timeout): watch again from here.
        case ended(resourceVersion: String)
        case gone
        case failed(String, retryAfter: TimeInterval?, resourceVersion: String)
        case stopped
    }

    /// One WATCH from `resourceVersion`, events applied as they arrive.
    private func watch(from start: String) -> WatchResult {
        var resourceVersion = start
        var gone = false
        var query = [
            "watch=1", "resourceVersion=" + percentEncoded(start), "allowWatchBookmarks=true",
            "timeoutSeconds=\(Int(settings.watchTimeout))",
        ]
        query += selectors()
        let url = access.server + resource.path(namespace: namespace) + "?" + query.joined(separator: "&")
        let answer: HTTPAnswer
        do {
            answer = try connection.stream(
                url, headers: access.headers(), timeout: settings.watchTimeout + 30, shouldStop: shouldStop
            ) { line in
                guard let event = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                    let type = event["type"] as? String, let object = event["object"] as? [String: Any]
                else { return }
                let version = (object["metadata"] as? [String: Any])?["resourceVersion"] as? String
                switch type {
                case "ADDED", "MODIFIED":
                    if !self.isKept(object) {
                        // A Secret that no longer holds a certificate is gone as far as the pipeline goes.
                        if let key = self.objectKey(object) { self.store.remove(self.collection, key: key) }
                    } else if let (key, stored) = self.storedObject(object) {
                        self.store.put(self.collection, key: key, stored)
                    }
                case "DELETED":
                    if let key = self.objectKey(object) { self.store.remove(self.collection, key: key) }
                case "BOOKMARK":
                    break
                case "ERROR":
                    // A Status: 410 means the resourceVersion is too old to watch from.
                    if object["code"] as? Int == 410 { gone = true }
                    return
                default:
                    return
                }
                if let version { resourceVersion = version }
            }
        } catch .stopped {
            return .stopped
        } catch {
            return .failed("WATCH broke: \(error)", retryAfter: nil, resourceVersion: resourceVersion)
        }
        if gone || answer.status == 410 { return .gone }
        guard answer.status == 200 else {
            return .failed(refusal("WATCH", answer), retryAfter: answer.retryAfter, resourceVersion: resourceVersion)
        }
        return .ended(resourceVersion: resourceVersion)
    }

    private func selectors() -> [String] {
        var query: [String] = []
        if resource.selectable, let selector = settings.labelSelector {
            query.append("labelSelector=" + percentEncoded(selector))
        }
        if let field = resource.fieldSelector { query.append("fieldSelector=" + percentEncoded(field)) }
        return query
    }

    /// An API object as the store keeps it: `namespace/name` and its JSON (with apiVersion and kind, which list
    /// items lack).
    private func storedObject(_ object: [String: Any]) -> (String, ObjectStore.StoredObject)? {
        guard let key = objectKey(object) else { return nil }
        var object = object
        object["apiVersion"] = resource.apiVersion
        object["kind"] = resource.kind
        // Server-side bookkeeping no stage reads: dropped, so that an object that changed only there is no change.
        if var metadata = object["metadata"] as? [String: Any] {
            metadata["managedFields"] = nil
            object["metadata"] = metadata
        }
        guard
            let json = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        else { return nil }
        let version = (object["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? ""
        return (key, ObjectStore.StoredObject(resourceVersion: version, json: Array(json)))
    }

    /// Whether the pipeline reads `object` (see `WatchedResource.certificatesOnly`).
    private func isKept(_ object: [String: Any]) -> Bool {
        guard resource.certificatesOnly else { return true }
        guard let certificate = (object["data"] as? [String: Any])?["tls.crt"] as? String else { return false }
        return !certificate.isEmpty
    }

    private func objectKey(_ object: [String: Any]) -> String? {
        guard let metadata = object["metadata"] as? [String: Any], let name = metadata["name"] as? String else {
            return nil
        }
        return (metadata["namespace"] as? String ?? "") + "/" + name
    }

    /// A refused request in words: the status and the server's message (a Status object), never the token.
    private func refusal(_ verb: String, _ answer: HTTPAnswer) -> String {
        let message =
            (try? JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["message"] as? String
        let hint: String
        switch answer.status {
        case 401: hint = " (the token or client certificate was not accepted)"
        case 403: hint = " (the service account lacks get/list/watch on \(resource.plural); see deploy/rbac.yaml)"
        default: hint = ""
        }
        return "\(verb) answered \(answer.status)\(hint)" + (message.map { ": \($0)" } ?? "")
    }
}

/// Query-string encoding of a value.
func percentEncoded(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
