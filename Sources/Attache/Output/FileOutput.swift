import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why an output file could not be written.
public struct OutputError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Writes files so that a reader (Envoy) sees either the old file or the new one, never a partial one.
public enum AtomicFile {
    /// Creates `directory` (and parents) if needed and checks that it is a writable directory.
    public static func prepareDirectory(_ directory: String, privateToOwner: Bool = false) throws(OutputError) {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw OutputError(path: directory, reason: "exists and is not a directory")
            }
            if privateToOwner { chmod(directory, 0o700) }
        } else {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true,
                    attributes: privateToOwner ? [.posixPermissions: 0o700] : nil)
            } catch {
                throw OutputError(path: directory, reason: "cannot create directory")
            }
        }
        try checkWritable(directory)
    }

    /// Creates and removes a probe file: permission bits alone do not tell (root passes `access()` on a
    /// read-only mount or /proc).
    public static func checkWritable(_ directory: String) throws(OutputError) {
        let probe = directory + "/.attache-probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw OutputError(
                path: directory, reason: "directory is not writable (\(String(cString: strerror(errno))))")
        }
        close(fd)
        unlink(probe)
    }

    /// Writes `bytes` to `directory/name`: a temp file in the same directory, created exclusively (a planted
    /// symlink or file at that name makes it fail instead of being followed), then renamed over the target. `name` must be a plain file name: nothing is ever written outside `directory`.
    /// `secret`: the file holds a key or certificate, readable by its owner alone (0600).
    public static func write(_ bytes: [UInt8], to name: String, in directory: String, secret: Bool = false)
        throws(OutputError)
    {
        try write(
            to: name, in: directory, mode: secret ? 0o600 : 0o644,
            descriptor: { fd in try bytes.withUnsafeBytes { try writeAll($0, to: fd, at: 0) } })
    }

    /// Like `write(_:to:in:)`, with the content produced by `body` in pieces: `body` calls its argument with each
    /// chunk, so that large files are never held in memory whole.
    public static func write(
        to name: String, in directory: String, _ body: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) throws(OutputError) {
        try write(
            to: name, in: directory,
            descriptor: { fd in
                var end = 0
                try body { buffer in
                    try writeAll(buffer, to: fd, at: end)
                    end += buffer.count
                }
            })
    }

    /// Like `write(_:to:in:)`, with `body` writing the temp file's descriptor itself (`writeAll` at any offsets,
    /// from several threads at once). A `body` that throws leaves the target as it was.
    static func write(
        to name: String, in directory: String, mode: mode_t = 0o644, descriptor body: (Int32) throws -> Void
    ) throws(OutputError) {
        let target = directory + "/" + name
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw OutputError(path: target, reason: "refusing to write outside the output directory")
        }
        let temp = directory + "/." + name + ".tmp-\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else {
            throw OutputError(path: temp, reason: "cannot create temp file: \(String(cString: strerror(errno)))")
        }
        var failure: String? = nil
        do {
            try body(fd)
        } catch {
            failure = (error as? WriteFailed)?.reason ?? "\(error)"
        }
        // No fsync: readers (Envoy) see the old file or the new one because of the rename; fsync only guards
        // against power loss, and one per file made writing thousands of endpoint files 10x slower.
        close(fd)
        if failure == nil, rename(temp, target) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temp)
            throw OutputError(path: target, reason: "cannot write: \(failure)")
        }
    }

    /// Writes all of `buffer` at `offset` of `fd` (`pwrite`: no shared file position, so threads may write
    /// different parts of one file at once).
    static func writeAll(_ buffer: UnsafeRawBufferPointer, to fd: Int32, at offset: Int) throws {
        guard !buffer.isEmpty else { return }
        var done = 0
        while done < buffer.count {
            let written = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if written < 0 {
                if errno == EINTR { continue }
                throw WriteFailed(reason: String(cString: strerror(errno)))
            }
            done += written
        }
    }

    struct WriteFailed: Error {
        var reason: String
    }
}
