import Foundation

/// The files `translate --output DIR` writes, in writing order: what routes point at is written first.
public enum OutputFiles {
    public static let clusters = "clusters.json"
    public static let routes = "routes.json"
    public static let bootstrap = "bootstrap.json"
    /// The certificates' SDS files (`<namespace>.<secret>.json`, mode 0600, in a 0700 directory).
    public static let secrets = "secrets"

    /// The file of a route configuration: `routes.json` for Attaché's default one, `routes-<name>.json` for each
    /// filter chain of a Listener.
    public static func routes(forConfiguration name: String) -> String {
        name == Envoy.routeConfigurationName ? routes : "routes-\(name).json"
    }

    /// Writes one translation into `directory`, file by file, each atomically and streamed (no file is held in
    /// memory whole): endpoint files, then clusters and routes (side by side), then the bootstrap, which embeds the
    /// two files just written instead of rendering them again (in `width` shares side by side). Endpoint files that
    /// no cluster uses any more are removed.
    public static func write(_ envoy: EnvoyConfig, to directory: String, width: Int? = nil) throws(OutputError) {
        if !envoy.endpointFiles.isEmpty { try AtomicFile.prepareDirectory(directory + "/endpoints") }
        var current = Set<String>()
        for file in envoy.endpointFiles {
            let bytes = Envoy.discoveryResponse(typeURL: Envoy.clusterLoadAssignmentType, resources: [file.assignment])
            try AtomicFile.write(
                bytes, to: String(file.path.dropFirst("endpoints/".count)), in: directory + "/endpoints")
            current.insert(file.path)
        }
        // Certificates first: the bootstrap's TLS chains name their files.
        if !envoy.secrets.isEmpty {
            try AtomicFile.prepareDirectory(directory + "/" + secrets, privateToOwner: true)
            for secret in envoy.secrets {
                let bytes = Envoy.discoveryResponse(
                    typeURL: Envoy.secretType, resources: [Envoy.TLSSecretResource(secret: secret)])
                try AtomicFile.write(
                    bytes, to: secretFileName(for: secret.name), in: directory + "/" + secrets, secret: true)
            }
        }
        // The clusters and the (usually one) route configuration are independent: each is rendered on its own
        // processor.
        let routeFiles = envoy.routeConfigurations
        let written = inParallel(
            { Result { () throws(OutputError) in try stream(JSONArray(envoy.clusters), to: clusters, in: directory) } },
            {
                Result { () throws(OutputError) in
                    try routeFiles.map { configuration throws(OutputError) in
                        try stream(configuration, to: routes(forConfiguration: configuration.name), in: directory)
                    }
                }
            })
        let renderedFiles = [try written.0.get()] + (try written.1.get())
        // The bootstrap is laid out with those files left out, then written with them copied in, on all processors.
        let layout = EmbeddingWriter.layout { writer, leaveOut in
            envoy.bootstrap.write(
                to: &writer,
                routeConfiguration: { json, configuration in
                    leaveOut(&json, directory + "/" + routes(forConfiguration: configuration.name))
                },
                clusters: { json, _ in leaveOut(&json, directory + "/" + clusters) })
        }
        try EmbeddingWriter.write(
            skeleton: layout.skeleton, embeds: layout.embeds,
            files: Dictionary(uniqueKeysWithValues: renderedFiles.map { ($0.path, $0) }), to: bootstrap, in: directory,
            width: width ?? parallelWidth)
        let stale = ((try? FileManager.default.contentsOfDirectory(atPath: directory + "/endpoints")) ?? [])
            .filter { $0.hasSuffix(".json") && !current.contains("endpoints/" + $0) }
        for name in stale { try? FileManager.default.removeItem(atPath: directory + "/endpoints/" + name) }
    }

    /// Streams `value` into `directory/name`, marking the line feeds of each chunk written so that the bootstrap
    /// can embed the file in parts.
    private static func stream(_ value: some JSONRepresentable, to name: String, in directory: String)
        throws(OutputError) -> StreamedFile
    {
        var marks: [LineFeedMark] = []
        try AtomicFile.write(to: name, in: directory) { emit in
            try withoutActuallyEscaping(emit) { emit in
                var writer = JSONWriter(sink: { chunk in
                    marks.append(LineFeedMark(after: marks.last, chunk: chunk.assumingMemoryBound(to: UInt8.self)))
                    try emit(chunk)
                })
                value.write(to: &writer)
                try writer.finish()
            }
        }
        return StreamedFile(path: directory + "/" + name, marks: marks)
    }
}

/// The files `watch` writes into its xDS directory (`Sidecar/`), besides `endpoints/<cluster>.json`.
public enum XDSFileNames {
    public static let bootstrap = "bootstrap.json"
    public static let listeners = "lds.json"
    public static let clusters = "cds.json"
    public static let routes = "rds.json"
    /// The canary weights, a runtime layer (RTDS): a weight step rewrites this file alone.
    public static let runtime = "rtds.json"
    /// The directory of the certificates' SDS files (mode 0700; each file 0600).
    public static let secrets = "secrets"

    /// The file of a route configuration: `rds.json` for Attaché's default one, `rds-<name>.json` for a filter
    /// chain's.
    public static func routes(forConfiguration name: String) -> String {
        name == Envoy.routeConfigurationName ? routes : "rds-\(name).json"
    }
}
