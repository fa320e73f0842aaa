// Input sources: where the pipeline's inputs come from. Every command and the sidecar take one; files (paths,
// directories, standard input) are the first kind, the Kubernetes API (issue 20) the second.

import Foundation

/// The inputs as one source saw them at one moment: texts to parse, and what loading them reported (an
/// unreadable path is an error, and then nothing is translated).
public struct InputSnapshot: Sendable {
    public var sources: [SourceFile]
    public var diagnostics: DiagnosticLog

    public init(sources: [SourceFile], diagnostics: DiagnosticLog = DiagnosticLog()) {
        self.sources = sources
        self.diagnostics = diagnostics
    }
}

/// Where the pipeline's inputs come from: a snapshot now, and a way to wait until they may have changed.
public protocol InputSource: AnyObject, CustomStringConvertible {
    /// The inputs as they are now.
    func snapshot() -> InputSnapshot

    /// Blocks until the inputs may have changed (true), `timeout` passes (false) or `shouldStop` says so. A burst of
    /// changes is settled first: quiet for `holdOff`, but no longer than `cap` in all.
    func waitForChange(timeout: TimeInterval, holdOff: TimeInterval, cap: TimeInterval, shouldStop: () -> Bool) -> Bool
}

/// Files and directories named on the command line (directories read recursively for `*.yaml`, `*.yml`, `*.json`),
/// or `-` for standard input, which is read once. Changes are noticed by `InputWatcher`, started on the first wait.
public final class FileInputSource: InputSource {
    public let paths: [String]
    /// Directories not read even when inside an input directory: Attaché's own output (`translate --output`,
    /// `watch --xds-dir`), which would otherwise be read back as input on the next run.
    public let excluding: [String]
    private let readStandardInput: () -> [UInt8]
    private var watcher: InputWatcher?

    public init(
        paths: [String], excluding: [String] = [],
        readStandardInput: @escaping () -> [UInt8] = { Array(FileHandle.standardInput.readDataToEndOfFile()) }
    ) {
        self.paths = paths
        self.excluding = excluding
        self.readStandardInput = readStandardInput
    }

    public var description: String { paths.joined(separator: " ") }

    public func snapshot() -> InputSnapshot {
        let loaded = SourceLoader.load(paths: paths, excluding: excluding, readStandardInput: readStandardInput)
        return InputSnapshot(sources: loaded.sources, diagnostics: loaded.diagnostics)
    }

    public func waitForChange(timeout: TimeInterval, holdOff: TimeInterval, cap: TimeInterval, shouldStop: () -> Bool)
        -> Bool
    {
        if watcher == nil { watcher = InputWatcher(paths: paths, excluding: excluding) }
        return watcher?.waitForChange(timeout: timeout, holdOff: holdOff, cap: cap, shouldStop: shouldStop) ?? false
    }

    /// Starts watching now, so that a change made between the first snapshot and the first wait is not missed.
    func startWatching() {
        if watcher == nil { watcher = InputWatcher(paths: paths, excluding: excluding) }
    }
}

/// How much a source's own message (not a diagnostic of the input) matters: progress, a notice about what is not
/// there, or a problem reaching the inputs that it is working around.
public enum InputMessageLevel: String, Sendable {
    case info, notice, warning
}
