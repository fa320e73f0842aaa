import Attache
import Foundation

/// The repository root, found from this file's path so tests run from any working directory.
let repositoryRoot: URL = {
    var url = URL(fileURLWithPath: #filePath)
    while url.pathComponents.count > 1 {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}()

/// One case under `fixtures/<name>/`: input files (`*.yaml`, `*.yml`, `*.json`, read in name order), an optional
/// `args` file of translate options, and `expected/` with the files translate writes plus `diagnostics.txt`.
struct FixtureCase {
    let name: String
    let directory: URL

    var expectedDirectory: URL { directory.appendingPathComponent("expected") }

    static func all() -> [FixtureCase] {
        let root = repositoryRoot.appendingPathComponent("fixtures")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            let directory = root.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
                isDirectory.boolValue
            else { return nil }
            // A translate case has input files at its top; `fixtures/review/` holds diff and explain cases instead.
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            guard files.contains(where: { ["yaml", "yml", "json"].contains(($0 as NSString).pathExtension) }) else {
                return nil
            }
            return FixtureCase(name: name, directory: directory)
        }
    }

    /// Input files, named relative to the case directory so diagnostics read `input.yaml:3:5`.
    func sources() throws -> [SourceFile] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { ["yaml", "yml", "json"].contains(($0 as NSString).pathExtension) }
            .sorted()
        return try names.map { name in
            SourceFile(name: name, bytes: Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    func options() throws -> TranslationOptions {
        let argsFile = directory.appendingPathComponent("args")
        var options = TranslationOptions()
        if let text = try? String(contentsOf: argsFile, encoding: .utf8) {
            options = try parseTranslationOptions(text.split(whereSeparator: { $0.isWhitespace }).map(String.init))
        }
        // Certificate files as `envoy --mode validate` finds them from the case directory.
        options.envoy.secretsDirectory = "expected/" + OutputFiles.secrets
        return options
    }

    /// What the case produces now: file name → bytes, written by the same code as `translate --output`, plus
    /// `diagnostics.txt` (the diagnostics and the exit status).
    func produce() throws -> [String: [UInt8]] {
        let translation = translate(try sources(), options: try options())
        var files: [String: [UInt8]] = [:]
        if translation.isComplete {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent(
                "attache-fixture-\(name)-\(getpid())")
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: output) }
            try OutputFiles.write(translation.envoy, to: output.path)
            for name in FileManager.default.subpaths(atPath: output.path) ?? [] {
                var isDirectory: ObjCBool = false
                let url = output.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                    files[name] = Array(try Data(contentsOf: url))
                }
            }
        }
        let diagnostics = translation.diagnostics.map(\.description) + ["exit status: \(translation.exitStatus)"]
        files["diagnostics.txt"] = Array((diagnostics.joined(separator: "\n") + "\n").utf8)
        return files
    }

    /// The files now in `expected/` (relative paths, subdirectories included).
    func expected() -> [String: [UInt8]] {
        let names = (FileManager.default.subpaths(atPath: expectedDirectory.path) ?? [])
        var files: [String: [UInt8]] = [:]
        for name in names {
            var isDirectory: ObjCBool = false
            let url = expectedDirectory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            if let data = try? Data(contentsOf: url) { files[name] = Array(data) }
        }
        return files
    }

    /// Rewrites `expected/` with what the case produces, removing files it no longer produces.
    func update(with produced: [String: [UInt8]]) throws {
        try FileManager.default.createDirectory(at: expectedDirectory, withIntermediateDirectories: true)
        for name in expected().keys where produced[name] == nil {
            try FileManager.default.removeItem(at: expectedDirectory.appendingPathComponent(name))
        }
        for (name, bytes) in produced {
            let url = expectedDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        // Drop directories left empty.
        for name in (FileManager.default.subpaths(atPath: expectedDirectory.path) ?? []).sorted().reversed() {
            let url = expectedDirectory.appendingPathComponent(name)
            if let children = try? FileManager.default.contentsOfDirectory(atPath: url.path), children.isEmpty {
                try FileManager.default.removeItem(at: url)
            }
        }
    }
}

/// A readable line diff for a failure message: the first lines that differ, with their numbers.
func firstDifferences(expected: [UInt8], actual: [UInt8], limit: Int = 8) -> String {
    let a = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let b = String(decoding: actual, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    var lines: [String] = []
    for i in 0..<max(a.count, b.count) where lines.count < limit * 2 {
        let x = i < a.count ? String(a[i]) : "<end>"
        let y = i < b.count ? String(b[i]) : "<end>"
        if x != y { lines += ["  line \(i + 1) expected: \(x)", "  line \(i + 1) actual:   \(y)"] }
    }
    return lines.joined(separator: "\n")
}
