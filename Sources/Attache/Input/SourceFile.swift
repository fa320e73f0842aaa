// Input: the bytes Attaché reads, with the name diagnostics print for them.
//
// This is the only stage that touches the file system; everything after it works on `SourceFile` values.

import Foundation

/// One input text and the name diagnostics use for it (the path as the user gave it, or `<stdin>`).
public struct SourceFile: Sendable {
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    public init(name: String, text: String) {
        self.init(name: name, bytes: Array(text.utf8))
    }
}

/// Reads the inputs named on a command line: files, directories (recursively, `*.yaml`, `*.yml`, `*.json`, in
/// sorted order) and `-` for standard input.
public enum SourceLoader {
    /// File name endings read when walking a directory.
    static let extensions: Set<String> = ["yaml", "yml", "json"]

    /// Loads every path. Unreadable paths become error diagnostics (the caller decides whether that stops the run).
    public static func load(
        paths: [String],
        readStandardInput: () -> [UInt8] = { Array(FileHandle.standardInput.readDataToEndOfFile()) }
    ) -> (sources: [SourceFile], diagnostics: DiagnosticLog) {
        var sources: [SourceFile] = []
        var log = DiagnosticLog()
        var stdinRead = false
        for path in paths {
            if path == "-" {
                if !stdinRead { sources.append(SourceFile(name: "<stdin>", bytes: readStandardInput())) }
                stdinRead = true
                continue
            }
            var visitedDirectories = Set<String>()
            collect(path: path, explicitlyNamed: true, into: &sources, log: &log, visited: &visitedDirectories)
        }
        return (sources, log)
    }

    private static func collect(
        path: String, explicitlyNamed: Bool, into sources: inout [SourceFile], log: inout DiagnosticLog,
        visited: inout Set<String>
    ) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            // A dangling symlink inside a directory is not worth failing for; a named path that is missing is.
            if explicitlyNamed {
                log.error(.unreadablePath, "no such file or directory", at: SourceLocation(file: path, line: 1, column: 1))
            }
            return
        }
        if isDirectory.boolValue {
            // Resolving symlinks makes a loop (a link to a parent) visit each real directory once.
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            guard visited.insert(real).inserted else {
                log.warning(.unreadablePath, "directory already read (symlink loop?); skipped", at: SourceLocation(file: path, line: 1, column: 1))
                return
            }
            guard let entries = try? fm.contentsOfDirectory(atPath: path) else {
                log.error(.unreadablePath, "cannot list directory", at: SourceLocation(file: path, line: 1, column: 1))
                return
            }
            for entry in entries.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !entry.hasPrefix(".") {
                let child = path.hasSuffix("/") ? path + entry : path + "/" + entry
                var childIsDirectory: ObjCBool = false
                _ = fm.fileExists(atPath: child, isDirectory: &childIsDirectory)
                if childIsDirectory.boolValue || extensions.contains((entry as NSString).pathExtension.lowercased()) {
                    collect(path: child, explicitlyNamed: false, into: &sources, log: &log, visited: &visited)
                }
            }
            return
        }
        guard let data = fm.contents(atPath: path) else {
            log.error(.unreadablePath, "cannot read file", at: SourceLocation(file: path, line: 1, column: 1))
            return
        }
        sources.append(SourceFile(name: path, bytes: Array(data)))
    }
}
