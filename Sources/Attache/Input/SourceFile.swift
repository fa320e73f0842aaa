// Input: the bytes Attaché reads, with the name diagnostics print for them.
//
// Reading files is this folder's job (once, or again on every change: `InputSource`); every stage after it
// works on `SourceFile` values.

import Foundation

/// One input text and the name diagnostics use for it (the path as the user gave it, or `<stdin>`).
public struct SourceFile: Sendable {
    public var name: String
    public var bytes: [UInt8]

    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// Reads the inputs named on a command line: files, directories (recursively, `*.yaml`, `*.yml`, `*.json`, in
/// sorted order) and `-` for standard input.
public enum SourceLoader {
    /// File name endings read when walking a directory.
    static let extensions: Set<String> = ["yaml", "yml", "json"]

    /// Loads every path. Unreadable paths become error diagnostics (the caller decides whether that stops the run).
    /// Directories in `excluding` (Attaché's own output, when it lies inside an input directory) are not walked.
    public static func load(
        paths: [String], excluding: [String] = [],
        readStandardInput: () -> [UInt8] = { Array(FileHandle.standardInput.readDataToEndOfFile()) }
    ) -> (sources: [SourceFile], diagnostics: DiagnosticLog) {
        var sources: [SourceFile] = []
        var log = DiagnosticLog()
        var stdinRead = false
        var read = Set<String>()  // device and inode of each file read
        for path in paths {
            if path == "-" {
                if !stdinRead { sources.append(SourceFile(name: "<stdin>", bytes: readStandardInput())) }
                stdinRead = true
                continue
            }
            for file in walk(path, excluding: excluding, log: &log).files {
                // A file named twice (`a.yaml a.yaml`, or a file and its directory) is read once: its objects
                // would otherwise all be duplicates of themselves.
                var info = stat()
                if stat(file, &info) == 0, !read.insert("\(info.st_dev):\(info.st_ino)").inserted { continue }
                // A pipe named on the command line (`<(git show ...)`) is read like stdin; one met in a directory is not.
                if let bytes = readFile(file, allowPipe: file == path, log: &log) {
                    sources.append(SourceFile(name: file, bytes: bytes))
                }
            }
        }
        return (sources, log)
    }

    /// The largest input file read (inputs are read whole; a runaway file must not take the machine with it).
    public static let maximumFileSize = 1 << 30

    /// Reads a file whole. A device or socket (`/dev/zero`) would never end and a FIFO found in a directory (a named
    /// pipe called `x.yaml`) would block, so those are errors; a pipe named explicitly (process substitution) is
    /// read to its end. Nothing larger than `maximumFileSize` is read.
    static func readFile(_ path: String, allowPipe: Bool, log: inout DiagnosticLog) -> [UInt8]? {
        let at = SourceLocation(file: path, line: 1, column: 1)
        var info = stat()
        guard stat(path, &info) == 0 else {
            log.error(.unreadablePath, "cannot read file (\(String(cString: strerror(errno))))", at: at)
            return nil
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFREG || (allowPipe && type == S_IFIFO) else {
            log.error(.unreadablePath, "not a regular file (a pipe, socket or device); not read", at: at)
            return nil
        }
        guard info.st_size <= maximumFileSize else {
            log.error(.unreadablePath, "file is larger than \(maximumFileSize >> 30) GiB; not read", at: at)
            return nil
        }
        // Read straight into the byte array (no intermediate Data): inputs can be large.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            log.error(.unreadablePath, "cannot open file (\(String(cString: strerror(errno))))", at: at)
            return nil
        }
        defer { close(fd) }
        // One byte more than the size, so that reaching it means the file grew while we read (then read on).
        var failed = false
        var bytes = [UInt8](unsafeUninitializedCapacity: max(0, Int(info.st_size)) + 1) { buffer, count in
            count = 0
            while count < buffer.count {
                let n = read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0, errno == EINTR { continue }
                if n < 0 { failed = true }
                if n <= 0 { break }
                count += n
            }
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while !failed, bytes.count > Int(info.st_size) {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { failed = true }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= maximumFileSize else {
                log.error(.unreadablePath, "file is larger than \(maximumFileSize >> 30) GiB; not read", at: at)
                return nil
            }
        }
        if failed {
            log.error(.unreadablePath, "cannot read file (\(String(cString: strerror(errno))))", at: at)
            return nil
        }
        return bytes
    }

    /// The files a path stands for: itself, or (for a directory) every `*.yaml`, `*.yml` and `*.json` below it,
    /// in name order, hidden entries skipped (a Kubernetes ConfigMap volume's `..data` is reached through the
    /// visible links), each real directory once (a symlink loop is reported, not followed forever).
    public static func inputFiles(under path: String, log: inout DiagnosticLog) -> [String] {
        walk(path, excluding: [], log: &log).files
    }

    /// The one walk of an input path: the files `load` reads (see `inputFiles`), and the directories it listed to
    /// find them (the sidecar watches those).
    /// Directories in `excluding` are skipped, compared by real path (symlinks resolved).
    static func walk(_ path: String, excluding: [String], log: inout DiagnosticLog) -> (
        files: [String], directories: [String]
    ) {
        var found = (files: [String](), directories: [String]())
        let excluded = Set(excluding.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path })
        var visited = Set<String>()
        collect(path: path, explicitlyNamed: true, into: &found, log: &log, visited: &visited, excluded: excluded)
        return found
    }

    /// A fingerprint of what `load` would read: each file's identity, size and modification time (through
    /// symlinks, so a ConfigMap's `..data` swap changes it). The sidecar compares fingerprints to tell a real
    /// change from noise.
    public static func fingerprint(paths: [String], excluding: [String] = []) -> [String] {
        var log = DiagnosticLog()
        var result: [String] = []
        for path in paths where path != "-" {
            for file in walk(path, excluding: excluding, log: &log).files {
                var info = stat()
                if stat(file, &info) == 0 {
                    result.append(
                        "\(file)|\(info.st_dev)|\(info.st_ino)|\(info.st_size)|\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
                    )
                } else {
                    result.append("\(file)|missing")
                }
            }
        }
        return result + log.items.map(\.description)
    }

    private static func collect(
        path: String, explicitlyNamed: Bool, into found: inout (files: [String], directories: [String]),
        log: inout DiagnosticLog, visited: inout Set<String>, excluded: Set<String>
    ) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
            // A dangling symlink inside a directory is not worth failing for; a named path that is missing is.
            if explicitlyNamed {
                log.error(
                    .unreadablePath, "no such file or directory", at: SourceLocation(file: path, line: 1, column: 1))
            }
            return
        }
        if isDirectory.boolValue {
            // Resolving symlinks makes a loop (a link to a parent) visit each real directory once.
            let real = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            if excluded.contains(real) { return }  // Attaché's own output: not an input
            guard visited.insert(real).inserted else {
                log.warning(
                    .unreadablePath, "directory already read (symlink loop?); skipped",
                    at: SourceLocation(file: path, line: 1, column: 1))
                return
            }
            guard let entries = try? fm.contentsOfDirectory(atPath: path) else {
                log.error(.unreadablePath, "cannot list directory", at: SourceLocation(file: path, line: 1, column: 1))
                return
            }
            found.directories.append(path)
            for entry in entries.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !entry.hasPrefix(".")
            {
                let child = path.hasSuffix("/") ? path + entry : path + "/" + entry
                var childIsDirectory: ObjCBool = false
                _ = fm.fileExists(atPath: child, isDirectory: &childIsDirectory)
                if childIsDirectory.boolValue || extensions.contains((entry as NSString).pathExtension.lowercased()) {
                    collect(
                        path: child, explicitlyNamed: false, into: &found, log: &log, visited: &visited,
                        excluded: excluded)
                }
            }
            return
        }
        found.files.append(path)
    }
}
