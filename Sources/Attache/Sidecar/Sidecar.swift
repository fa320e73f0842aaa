import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Set by the SIGTERM/SIGINT handler that `attache watch` installs; the loop stops after the write in progress.
nonisolated(unsafe) var sidecarSignalReceived: sig_atomic_t = 0

/// Lets tests (and the signal handler) stop a running sidecar.
public final class SidecarControl: Sendable {
    private let stopped = Atomic(false)

    public init() {}

    public func stop() {
        stopped.store(true, ordering: .releasing)
    }

    public var isStopped: Bool {
        stopped.load(ordering: .acquiring) || sidecarSignalReceived != 0
    }
}

/// How the sidecar runs.
public struct SidecarSettings: Sendable {
    public var options: TranslationOptions
    /// The xDS directory Envoy reads (must exist and be writable).
    public var directory: String
    /// Quiet time that ends a burst of input changes, and the longest a burst may delay a reconfiguration.
    public var holdOff: TimeInterval = 0.02
    public var holdOffCap: TimeInterval = 1.0
    /// After adding clusters, how long to give Envoy to warm them before routes may point at them.
    public var clusterWarmup: TimeInterval = 0.1
    /// How long removed clusters stay in cds.json after the routes stopped using them.
    public var clusterRetention: TimeInterval = 1.0
    /// Translate and write once, then return.
    public var once = false
    /// Envoy's admin endpoint (`--envoy-admin URL`): when set, each write is confirmed by reading Envoy's stats, and
    /// a version Envoy rejects is logged as an error (and makes `--once` exit 1).
    var envoyAdmin: EnvoyAdmin?
    /// How long to wait for Envoy to apply a write before saying it has not.
    public var confirmationTimeout: TimeInterval = 2
    /// How the log lines look (`--log-format`).
    public var logFormat = EventLog.Format.text
    /// The form Envoy reads the xDS files in (`--xds-encoding`): binary twins of the JSON files by default.
    public var xdsEncoding = XDSEncoding.protobuf

    public init(options: TranslationOptions, directory: String) {
        self.options = options
        self.directory = directory
    }
}

/// The sidecar loop: translate, write what changed, wait for the inputs to change, repeat.
///
/// Only this type (and the command in front of it) touches files and clocks. A translation that fails as a
/// whole (unreadable input, YAML syntax error, a file half-written by another program) writes nothing: Envoy keeps
/// the last good config and the next change is tried afresh. Writes go in make-before-break order: endpoints,
/// then clusters (new ones added, removed ones kept), then routes; removed clusters leave cds.json once routes no
/// longer use them.
public final class Sidecar: @unchecked Sendable {  // runs on one thread; only `control` is shared
    let settings: SidecarSettings
    /// Where the inputs come from, and how a change is noticed.
    let source: InputSource
    let io: CommandIO
    /// Where the log lines go: standard error, timestamped, in `settings.logFormat`.
    let events: EventLog
    let control: SidecarControl
    private var options: TranslationOptions
    /// Relative path → hash of what is on disk now.
    private var written: [String: UInt64] = [:]
    /// Relative path → the `version_info` of the DiscoveryResponse on disk (what Envoy should report serving).
    private var versions: [String: String] = [:]
    /// The clusters cds.json holds, and those the current routes use.
    private var publishedClusters: [Envoy.Cluster] = []
    /// The routes on disk with their weights zeroed (`routeShape`), and their version: a translation of the same
    /// shape changes only weights, which go to rtds.json.
    private var publishedShape: [Envoy.RouteConfiguration]?
    private var publishedRoutesVersion = ""
    private var currentClusters: [Envoy.Cluster] = []
    private var retentionEnds: Date?
    private var lastDiagnostics: [Diagnostic] = []
    private(set) var version: String?
    private var startedRouting = false
    /// The endpoint assignments on disk and their files' versions (unchanged ones are not rendered again).
    private var assignments: [String: Envoy.ClusterLoadAssignment] = [:]
    private var endpointVersions: [String: String] = [:]
    /// The part of the version that names the clusters and endpoint files, kept while neither changes.
    private var versionSuffix: String?
    /// Documents parsed in earlier runs, reused while their text is unchanged.
    private let documents = DocumentCache<AmbassadorObject>()
    /// Subdirectories already created and checked this run.
    private var preparedDirectories = Set<String>()

    public init(
        settings: SidecarSettings, source: InputSource, io: CommandIO, control: SidecarControl = SidecarControl()
    ) {
        self.settings = settings
        self.source = source
        self.io = io
        events = EventLog(format: settings.logFormat, write: io.writeErr)
        self.control = control
        options = settings.options
        options.endpointDelivery = .files(directory: settings.directory, encoding: settings.xdsEncoding)
        options.envoy.secretsDirectory = settings.directory + "/" + XDSFileNames.secrets
    }

    /// Runs until stopped (or once). Returns the exit status: 0 after a stop; with `once`, translate's status.
    public func run() -> Int32 {
        let directory = settings.directory
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            events.error("xDS directory \(directory) does not exist")
            return ExitStatus.failure
        }
        do { try AtomicFile.checkWritable(directory) } catch {
            events.error("xDS \(error)")
            return ExitStatus.failure
        }
        events.info(
            "attache \(attacheVersion) watching \(source.description), writing \(directory)",
            [("version", .string(attacheVersion)), ("xds_dir", .string(directory))])
        removeTempFiles()
        if settings.xdsEncoding == .json { removeBinaryTwins() }
        primeFromDisk()

        if !settings.once { (source as? FileInputSource)?.startWatching() }
        let status = reconfigure()
        if settings.once { return status }

        while !control.isStopped {
            let timeout = retentionEnds.map { max(0.01, $0.timeIntervalSinceNow) } ?? 1.0
            let changed = source.waitForChange(
                timeout: min(timeout, 1.0), holdOff: settings.holdOff, cap: settings.holdOffCap,
                shouldStop: { control.isStopped })
            if control.isStopped { break }
            if changed {
                _ = reconfigure()
            } else if let ends = retentionEnds, Date() >= ends {
                retireRemovedClusters()
            }
        }
        removeTempFiles()
        events.info("stopped (version \(version ?? "none"))")
        return ExitStatus.success
    }

    /// One translation and the writes it calls for. Returns translate's exit status.
    @discardableResult
    func reconfigure() -> Int32 {
        let clock = StageClock()
        let inputs = source.snapshot()
        // Unchanged documents come back from the cache already decoded, so a change costs the changed documents'
        // parse and decode, then routing and rendering.
        let translation = translateObjects(
            parseSources(inputs.sources, loadDiagnostics: inputs.diagnostics, cache: documents, options: options),
            options: options)
        if translation.diagnostics != lastDiagnostics {
            for diagnostic in translation.diagnostics { events.diagnostic(diagnostic) }
            lastDiagnostics = translation.diagnostics
        }
        guard translation.isComplete else {
            let reason = translation.diagnostics.first { $0.severity == .error }?.description ?? "input unusable"
            guard written[XDSFileNames.listeners] == nil else {
                events.error("input not translated, keeping version \(version ?? "none"): \(reason)")
                return translation.exitStatus
            }
            // Nothing on disk yet: an empty but valid config, so that an Envoy started on the bootstrap runs (and
            // answers 404) and picks up the fix, instead of dying on missing files.
            events.error(
                "input not translated: \(reason); writing an empty config (Envoy answers 404) until it can be")
            let empty = translateObjects(
                ParsedInput(objects: [], isComplete: true, log: DiagnosticLog()), options: options)
            if publish(empty, clock: clock) == ExitStatus.failure { return ExitStatus.failure }
            return translation.exitStatus
        }
        return publish(translation, clock: clock)
    }

    /// Writes what `translation` calls for, in an order that never lets Envoy see a reference to something it does
    /// not have yet: endpoints, clusters, routes, listeners, and the bootstrap last (an Envoy started as soon as the
    /// bootstrap appears finds every file it names). Returns translate's exit status (2 when a file cannot be
    /// written).
    private func publish(_ translation: Translation, clock started: StageClock) -> Int32 {
        var clock = started
        let shape = routeShape(translation.envoy)
        let weightsOnly = shape == publishedShape
        let files = renderXDSFiles(
            translation, directory: settings.directory, encoding: settings.xdsEncoding, previous: assignments,
            renderRoutes: !weightsOnly)
        var wrote: [String] = []
        // Envoy's rejected-update counters before writing, so that a rejection of what follows can be told apart.
        let watchedEndpoints = files.endpoints.keys.sorted().prefix(Self.confirmedEndpointFiles)
        let confirmed = Self.resources + routeResources(translation.envoy)
        let watchedPrefixes =
            confirmed.map(\.statPrefix)
            + watchedEndpoints.compactMap { files.assignments[$0].map { "cluster." + $0.clusterName } }
        let rejectedBefore = settings.envoyAdmin?.rejectionCounts(watchedPrefixes)

        // 1. Endpoints of every EDS cluster.
        var endpointsWritten = true
        for (path, bytes) in files.endpoints.sorted(by: { $0.key < $1.key }) {
            switch write(path, bytes) {
            case true?: wrote.append(path)
            case false?: break
            case nil: endpointsWritten = false
            }
            endpointVersions[path] = discoveryVersion(bytes)
        }
        // Remember what is on disk; after a failed write, render everything again next time.
        assignments = endpointsWritten ? files.assignments : [:]
        let endpointCount = endpointVersions.count
        for path in endpointVersions.keys where files.assignments[path] == nil { endpointVersions[path] = nil }
        let endpointsChanged = !files.endpoints.isEmpty || endpointVersions.count != endpointCount
        // 2. Clusters: the new ones, plus the ones the routes on disk may still use. Comparing the clusters is far
        //    cheaper than rendering and hashing megabytes to find them unchanged, and the usual change (a weight,
        //    a header) leaves them as they are.
        let clustersChanged = files.clusters != publishedClusters
        var clusters = files.clusters
        var retained: [Envoy.Cluster] = []
        var addsClusters = false
        if clustersChanged {
            let newNames = Set(files.clusters.map(\.name))
            let oldNames = Set(publishedClusters.map(\.name))
            retained = publishedClusters.filter { !newNames.contains($0.name) }
            clusters = (files.clusters + retained).sorted { codePointLess($0.name, $1.name) }
            addsClusters = !newNames.subtracting(oldNames).isEmpty
        }
        if clustersChanged || written[XDSFileNames.clusters] == nil,
            write(
                XDSFileNames.clusters,
                Envoy.discoveryResponse(typeURL: Envoy.clusterType, resources: clusters, compact: true))
                == true
        {
            wrote.append(XDSFileNames.clusters)
            if startedRouting, addsClusters {
                // Let Envoy warm the new clusters before any route sends traffic to them.
                usleep(useconds_t(settings.clusterWarmup * 1_000_000))
            }
        }
        publishedClusters = clusters
        currentClusters = files.clusters
        retentionEnds = retained.isEmpty ? nil : Date().addingTimeInterval(settings.clusterRetention)
        // 3. Certificates (a renewed one is picked up by the chains that read it, without touching listeners), the
        //    weights (before the routes that read them; a weight step writes nothing else), routes unless only
        //    weights changed, then listeners (which name routes and certificates).
        for (file, bytes) in files.secrets where write(file, bytes, secret: true) == true { wrote.append(file) }
        if write(XDSFileNames.runtime, files.runtime) == true { wrote.append(XDSFileNames.runtime) }
        var routesWritten = true
        for (file, bytes) in files.routes {
            switch write(file, bytes) {
            case true?: wrote.append(file)
            case false?: break
            case nil: routesWritten = false
            }
        }
        if !weightsOnly {
            // After a failed write, compare against nothing next time: everything is rendered and written again.
            publishedShape = routesWritten ? shape : nil
            publishedRoutesVersion = files.routesVersion
        }
        if write(XDSFileNames.listeners, files.listeners) == true { wrote.append(XDSFileNames.listeners) }
        removeStale(
            keeping: Set(files.secrets.map(\.file)), in: XDSFileNames.secrets, prefix: XDSFileNames.secrets + "/")
        if !weightsOnly {
            removeStale(keeping: Set(files.routes.map(\.file)), in: ".", prefix: "", only: { $0.hasPrefix("rds-") })
        }
        // 4. The bootstrap, which names the files above. It carries the Module's regex_max_size, which Envoy reads
        //    only when it starts.
        let bootstrap = sidecarBootstrap(
            directory: settings.directory, encoding: settings.xdsEncoding, addresses: options.envoy,
            regexMaxProgramSize: translation.model.regexMaxProgramSize)
        switch write(XDSFileNames.bootstrap, bootstrap) {
        case true?:
            wrote.append(XDSFileNames.bootstrap)
            if startedRouting {
                events.warning(
                    "\(XDSFileNames.bootstrap) changed (the Module's regex_max_size); restart Envoy to apply it")
            }
        case false?: break
        case nil: return ExitStatus.failure
        }
        startedRouting = true

        if clustersChanged || endpointsChanged || versionSuffix == nil {
            versionSuffix = stableHash(
                endpointVersions.keys.sorted().compactMap { endpointVersions[$0] }.joined()
                    + clusters.map(\.name).joined())
        }
        let newVersion =
            publishedRoutesVersion + "-" + String(discoveryVersion(files.runtime).prefix(4)) + (versionSuffix ?? "")
        version = newVersion
        clock.lap("reconfigure")
        if !wrote.isEmpty {
            let endpointsWritten = wrote.filter { $0.hasPrefix("endpoints/") }.count
            let named =
                wrote.filter { !$0.hasPrefix("endpoints/") }
                + (endpointsWritten > 0 ? ["\(endpointsWritten) endpoint file(s)"] : [])
            let milliseconds = clock.laps.last?.milliseconds ?? 0
            events.info(
                "version \(newVersion): \(files.counts.mappings) mappings, \(files.counts.routes) routes, \(files.counts.clusters) clusters, \(files.counts.endpoints) endpoints; wrote \(named.joined(separator: ", ")) in \(String(format: "%.1f", milliseconds)) ms",
                [
                    ("version", .string(newVersion)), ("mappings", .int(files.counts.mappings)),
                    ("routes", .int(files.counts.routes)), ("clusters", .int(files.counts.clusters)),
                    ("endpoints", .int(files.counts.endpoints)), ("wrote", .array(named.map(JSONValue.string))),
                    ("ms", .int(Int(milliseconds.rounded()))),
                ])
        }
        var exitStatus = translation.exitStatus
        if let admin = settings.envoyAdmin, !wrote.isEmpty {
            var expectations: [EnvoyExpectation] = []
            for (file, resource, prefix) in confirmed {
                if let version = versions[file] {
                    expectations.append(EnvoyExpectation(resource: resource, statPrefix: prefix, version: version))
                }
            }
            for path in watchedEndpoints {
                guard let cluster = files.assignments[path]?.clusterName, let version = versions[path] else { continue }
                expectations.append(
                    EnvoyExpectation(resource: "eds \(cluster)", statPrefix: "cluster." + cluster, version: version))
            }
            if reportConfirmation(
                admin.confirm(
                    expectations, rejectedBefore: rejectedBefore ?? [:],
                    deadline: Date().addingTimeInterval(settings.confirmationTimeout)), version: newVersion,
                endpointFiles: files.endpoints.count)
            {
                exitStatus = max(exitStatus, ExitStatus.partial)
            }
        }
        // The files are on disk: the translation (tens of thousands of routes and clusters) is freed on another
        // thread while this one goes back to waiting for the next change.
        releaseInBackground(consume translation)
        return exitStatus
    }

    /// The xDS files whose versions Envoy reports, with their names in the log and their stat prefixes.
    static let resources: [(file: String, resource: String, statPrefix: String)] = [
        (XDSFileNames.listeners, "lds", "listener_manager.lds"),
        (XDSFileNames.clusters, "cds", "cluster_manager.cds"),
        (XDSFileNames.runtime, "rtds", "runtime"),
    ]

    /// Each route file and the stats of the connection manager that reads it (`http.<stat prefix>.rds.<name>`):
    /// one for Attaché's own listener, one per filter chain with Listeners and Hosts.
    private func routeResources(_ envoy: EnvoyConfig) -> [(file: String, resource: String, statPrefix: String)] {
        var seen = Set<String>()
        return envoy.bootstrap.listeners.flatMap(\.chains).compactMap { chain in
            let name = chain.routes.configurationName
            guard seen.insert(name).inserted else { return nil }
            return (
                XDSFileNames.routes(forConfiguration: name), "rds \(name)",
                "http.\(chain.manager.statPrefix).rds.\(name)"
            )
        }
    }
    /// Endpoint files written in one reconfiguration that are confirmed (the first, by name): the first write at
    /// 10,000 Mappings writes thousands, and one filter naming them all would cost Envoy more than it tells.
    static let confirmedEndpointFiles = 20

    /// Logs what Envoy did with a write. True when Envoy rejected something.
    private func reportConfirmation(_ confirmation: EnvoyConfirmation, version: String, endpointFiles: Int) -> Bool {
        let sampled =
            endpointFiles > Self.confirmedEndpointFiles
            ? " (\(Self.confirmedEndpointFiles) of \(endpointFiles) endpoint files checked)" : ""
        switch confirmation {
        case .applied:
            events.info("envoy applied \(version)\(sampled)", [("version", .string(version))])
            return false
        case .rejected(let items):
            for item in items {
                events.error(
                    "envoy REJECTED \(item.resource) \(item.version) (still serving \(item.serving)); see Envoy's log for why",
                    [("resource", .string(item.resource)), ("version", .string(item.version))])
            }
            return true
        case .notYet(let items):
            let list = items.map { "\($0.resource) \($0.version) (serving \($0.serving))" }.joined(separator: ", ")
            events.warning("envoy has not applied \(list) within \(Int(settings.confirmationTimeout * 1000)) ms")
            return false
        case .unknown(let why):
            events.warning("cannot confirm with Envoy: \(why)")
            return false
        }
    }

    /// Drops clusters the routes no longer use from cds.json, and their endpoint files.
    func retireRemovedClusters() {
        retentionEnds = nil
        guard publishedClusters.count != currentClusters.count else { return }
        if write(
            XDSFileNames.clusters,
            Envoy.discoveryResponse(typeURL: Envoy.clusterType, resources: currentClusters, compact: true))
            != nil
        {
            publishedClusters = currentClusters
            versionSuffix = nil
        }
        let keep = Set(currentClusters.map { endpointFileName(forCluster: $0.name) })
        for path in written.keys where path.hasPrefix("endpoints/") && !keep.contains(path) {
            removeFile(path)
        }
        events.info("removed unused clusters from \(XDSFileNames.clusters)")
    }

    /// Writes a file atomically unless it already holds these bytes. nil on failure (logged), else whether it wrote.
    /// An xDS file Envoy reads in binary (`XDSEncoding.protobuf`) is written twice: the binary twin Envoy reads
    /// first, then the JSON. After a crash between the two, the JSON on disk is the older one, so the next run
    /// sees a difference and writes both again (the reverse order could leave Envoy on a stale twin for good).
    private func write(_ path: String, _ bytes: [UInt8], secret: Bool = false) -> Bool? {
        let hash = contentHash(bytes)
        // A certificate's version would be a hash of its key: not kept where it could be logged.
        if path != XDSFileNames.bootstrap, !secret { versions[path] = discoveryVersion(bytes) }
        if written[path] == hash { return false }
        let parts = path.split(separator: "/").map(String.init)
        let directory = ([settings.directory] + parts.dropLast()).joined(separator: "/")
        let name = parts.last ?? path
        do {
            if parts.count > 1, !preparedDirectories.contains(directory) {
                try AtomicFile.prepareDirectory(directory, privateToOwner: secret)
                preparedDirectories.insert(directory)
            }
            if hasBinaryTwin(path, secret: secret) {
                let binary = try protobufEncoding(ofJSON: bytes, as: Envoy.discoveryResponseMessage)
                try AtomicFile.write(binary, to: settings.xdsEncoding.envoyFile(name), in: directory)
            }
            try AtomicFile.write(bytes, to: name, in: directory, secret: secret)
        } catch {
            events.error("\(path): \(error)")
            return nil
        }
        written[path] = hash
        return true
    }

    /// Whether Envoy reads `path` through a binary twin: every xDS file but the bootstrap (read once, at start)
    /// and the certificates (small; a second copy of a key is a second place for it to leak from).
    private func hasBinaryTwin(_ path: String, secret: Bool) -> Bool {
        settings.xdsEncoding == .protobuf && !secret && path != XDSFileNames.bootstrap
    }

    /// Removes a file Attaché wrote, and its binary twin.
    private func removeFile(_ path: String) {
        unlink(settings.directory + "/" + path)
        let twin = settings.xdsEncoding.envoyFile(path)
        if twin != path { unlink(settings.directory + "/" + twin) }
        written[path] = nil
    }

    /// Removes the files of `subdirectory` that the last translation no longer writes (a deleted Host's
    /// certificate must not stay on disk; a route file no listener names is clutter). `prefix` turns a name into
    /// the path `written` knows it by.
    private func removeStale(
        keeping current: Set<String>, in subdirectory: String, prefix: String, only: (String) -> Bool = { _ in true }
    ) {
        let directory = settings.directory + "/" + subdirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasSuffix(".json") && !name.hasPrefix(".") && only(name) && !current.contains(prefix + name) {
            removeFile(subdirectory == "." ? name : subdirectory + "/" + name)
        }
    }

    /// Reads what a previous run left, so that an unchanged translation after a restart writes nothing.
    private func primeFromDisk() {
        let fm = FileManager.default
        var paths = [
            XDSFileNames.bootstrap, XDSFileNames.listeners, XDSFileNames.clusters, XDSFileNames.routes,
            XDSFileNames.runtime,
        ]
        paths += ((try? fm.contentsOfDirectory(atPath: settings.directory + "/endpoints")) ?? [])
            .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { "endpoints/" + $0 }
        for path in paths {
            // A file whose binary twin is missing (the last run let Envoy read JSON) is not known: written again.
            if hasBinaryTwin(path, secret: false),
                !fm.fileExists(atPath: settings.directory + "/" + settings.xdsEncoding.envoyFile(path))
            {
                continue
            }
            if let data = fm.contents(atPath: settings.directory + "/" + path) {
                written[path] = contentHash(Array(data))
            }
        }
    }

    /// Removes the binary twins an earlier run wrote, when this one lets Envoy read JSON: they would not be kept
    /// current, and a later run back on binary files must not find one and take it for current.
    private func removeBinaryTwins() {
        for directory in [settings.directory, settings.directory + "/endpoints"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            where name.hasSuffix(".pb") && !name.hasPrefix(".") {
                unlink(directory + "/" + name)
            }
        }
    }

    /// Removes temp files a killed run may have left (they are never renamed into place, so Envoy never saw them).
    private func removeTempFiles() {
        for directory in [settings.directory, settings.directory + "/endpoints"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            where name.hasPrefix(".") && name.contains(".tmp-") {
                unlink(directory + "/" + name)
            }
        }
    }
}
