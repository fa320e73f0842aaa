import Foundation

@testable import Attache

/// A scratch directory for running `attache watch --once` as a user would: an input file, an xDS directory, free
/// loopback ports for Envoy's admin and HTTP listeners, and everything the command writes to stderr.
final class WatchScratch {
    let root: URL
    let xds: URL
    let input: URL
    let adminPort: Int
    let listenPort: Int
    let captured = CommandTests.Captured()

    init(_ label: String) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("attache-\(label)-\(UUID().uuidString)")
        xds = root.appendingPathComponent("xds")
        input = root.appendingPathComponent("m.yaml")
        try FileManager.default.createDirectory(at: xds, withIntermediateDirectories: true)
        (adminPort, listenPort) = (try freeLoopbackPort(), try freeLoopbackPort())
    }

    var bootstrapPath: String { xds.appendingPathComponent("bootstrap.json").path }

    /// Writes `yaml` as the input and runs `watch --once` on it (Envoy's listener on 127.0.0.1, plus `arguments`).
    /// Returns the exit status and what this run wrote to stderr.
    func once(_ yaml: String, _ arguments: [String] = []) throws -> (status: Int32, log: String) {
        try yaml.write(to: input, atomically: true, encoding: .utf8)
        let start = captured.err.count
        let io = CommandIO(writeOut: { self.captured.out += $0 }, writeErr: { self.captured.err.append($0) }) { [] }
        let status = AttacheCLI.main(
            [
                "watch", input.path, "--xds-dir", xds.path, "--once", "--admin-port", "\(adminPort)",
                "--listen-address", "127.0.0.1", "--listen-port", "\(listenPort)",
            ] + arguments, io: io)
        return (status, captured.err[start...].joined(separator: "\n"))
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}
