import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `attache watch [translate options] PATH... --xds-dir DIR`: the sidecar.
enum WatchCommand {
    static let options: [ArgumentParser.Option] =
        [
            .init(
                name: "--xds-dir", takesValue: true,
                help: "directory Envoy reads its config from (must exist and be writable)", valueName: "DIR"),
            .init(name: "--once", takesValue: false, help: "translate, write, and exit (status as translate)"),
            .init(
                name: "--hold-off-ms", takesValue: true,
                help: "quiet time that ends a burst of input changes (default 20)", valueName: "MS"),
            .init(
                name: "--log-format", takesValue: true,
                help: "text (default: time, level, message) or json (one object per line, for log pipelines)",
                valueName: "FORMAT"),
            .init(
                name: "--envoy-admin", takesValue: true,
                help: "Envoy's admin URL (http://127.0.0.1:9901): confirm each write there, log versions Envoy rejects",
                valueName: "URL"),
            .init(
                name: "--xds-encoding", takesValue: true,
                help: "the files Envoy reads: protobuf (default; .pb twins of the .json files, parsed faster) or json",
                valueName: "FORMAT"),
        ]
        + envoyOptionTable + routingOptionTable + kubernetesOptionTable
        + [.init(name: "--help", takesValue: false, help: "show this help")]

    static let usage = """
        usage: attache watch [options] PATH... --xds-dir DIR
               attache watch [options] --kubernetes --xds-dir DIR

        Keeps a running Envoy's config current: writes DIR/bootstrap.json once (run `envoy -c DIR/bootstrap.json`),
        then DIR/lds.json, cds.json, rds.json, rtds.json and endpoints/<cluster>.json, each with a binary twin
        (lds.pb, ...) that Envoy reads, and rewrites whatever changes when the inputs change (files, directories,
        editors that save by rename, ConfigMap volumes). Every write is atomic.
        Input that cannot be translated leaves the last good config in place. SIGTERM/SIGINT: finish, clean up, exit 0.
        With --kubernetes the inputs are the cluster's objects, listed and then watched; nothing is written until
        every collection has been listed.

        options:
        \(ArgumentParser.help(options))
        """

    static func run(_ arguments: [String], io: CommandIO) -> Int32 {
        var status = ExitStatus.success
        guard
            let start = CommandStart.parse(
                "watch", arguments, options: Self.options, usage: usage, io: io, exitStatus: &status)
        else {
            return status
        }
        let parsed = start.parsed
        let options = start.options
        guard let directory = parsed.value("--xds-dir") else {
            return io.usageError("watch", "--xds-dir DIR is required")
        }
        let wantsKubernetes = parsed.has("--kubernetes")
        guard wantsKubernetes || (!parsed.positional.isEmpty && !parsed.positional.contains("-")) else {
            return io.usageError(
                "watch", "give the input paths to watch, or --kubernetes (standard input cannot be watched)")
        }
        guard !wantsKubernetes || parsed.positional.isEmpty else {
            return io.usageError("watch", "--kubernetes reads no paths")
        }
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        var settings = SidecarSettings(options: options, directory: absolute)
        settings.once = parsed.has("--once")
        if let format = parsed.value("--log-format") {
            guard let chosen = EventLog.Format(rawValue: format) else {
                return io.usageError("watch", "--log-format is text or json, not \"\(format)\"")
            }
            settings.logFormat = chosen
        }
        if let encoding = parsed.value("--xds-encoding") {
            guard let chosen = XDSEncoding(rawValue: encoding) else {
                return io.usageError("watch", "--xds-encoding is protobuf or json, not \"\(encoding)\"")
            }
            settings.xdsEncoding = chosen
        }
        if let text = parsed.value("--hold-off-ms") {
            guard let ms = Int(text), (0...10_000).contains(ms) else {
                return io.usageError("watch", "--hold-off-ms takes milliseconds from 0 to 10000, not \"\(text)\"")
            }
            settings.holdOff = Double(ms) / 1000
        }
        if let url = parsed.value("--envoy-admin") {
            guard let admin = EnvoyAdmin(url: url) else {
                return io.usageError(
                    "watch", "--envoy-admin takes http://ADDRESS:PORT (Envoy's admin listener), not \"\(url)\"")
            }
            settings.envoyAdmin = admin
        }
        sidecarSignalReceived = 0
        signal(SIGTERM) { _ in sidecarSignalReceived = 1 }
        signal(SIGINT) { _ in sidecarSignalReceived = 1 }
        let events = UncheckedBox(EventLog(format: settings.logFormat, write: io.writeErr))
        let lock = NSLock()
        let kubernetes: KubernetesInputSource?
        do {
            kubernetes = try kubernetesSource(parsed, syncTimeout: 120) { level, message in
                lock.lock()
                defer { lock.unlock() }
                switch level {
                case .info, .notice: events.value.info("kubernetes: " + message)
                case .warning: events.value.warning("kubernetes: " + message)
                }
            }
        } catch {
            return io.usageError("watch", error.message)
        }
        defer { kubernetes?.stop() }
        return Sidecar(
            settings: settings,
            source: kubernetes ?? FileInputSource(paths: parsed.positional, excluding: [absolute]), io: io
        ).run()
    }
}
