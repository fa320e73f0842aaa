import Foundation
import XCTest

@testable import Attache

/// Hostile inputs too large or too odd to commit as fixtures: each must end in a diagnostic and the documented
/// exit status. The generous process deadlines detect hangs; they are not speed budgets (scripts/bench measures).
final class HostileInputTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "attache-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func testKindListOf50000Items() throws {
        var text = "apiVersion: v1\nkind: List\nitems:\n"
        for i in 0..<50_000 {
            text +=
                "- {apiVersion: getambassador.io/v2, kind: Mapping, metadata: {name: m\(i), namespace: ns\(i % 7)}, spec: {prefix: /p\(i)/, service: s\(i)}}\n"
        }
        let translation = translate([SourceFile(name: "list.yaml", text: text)], options: TranslationOptions())
        XCTAssertEqual(translation.exitStatus, 0)
        XCTAssertEqual(translation.model.routes.count, 50_000)
    }

    /// 100 MB: one Mapping and a ConfigMap carrying a 100 MB string. Translated, with peak memory reported by
    /// `--timings` kept within a small multiple of the input.
    func testHundredMegabyteInput() throws {
        let binary = try attacheBinary()
        let path = directory.appendingPathComponent("big.yaml")
        XCTAssertTrue(FileManager.default.createFile(atPath: path.path, contents: nil))
        let handle = try FileHandle(forWritingTo: path)
        try handle.write(
            contentsOf: Data(
                "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: |\n"
                    .utf8))
        let line = Data(("    " + String(repeating: "0123456789abcdef", count: 6) + "\n").utf8)
        var chunk = Data()
        for _ in 0..<10_000 { chunk.append(line) }
        for _ in 0..<100 { try handle.write(contentsOf: chunk) }  // 100 × 10,000 × 101 bytes ≈ 101 MB
        try handle.close()
        let size = try FileManager.default.attributesOfItem(atPath: path.path)[.size] as? Int ?? 0
        XCTAssertGreaterThan(size, 100_000_000)
        let result = try runProcess(
            binary, ["translate", "--timings", "--output", directory.appendingPathComponent("out").path, path.path],
            timeout: 120)
        XCTAssertEqual(result.status, 0, result.output)
        let peaks = result.output.matches(of: /peak (\d+) MB/).compactMap { Int($0.1) }
        let peak = peaks.max() ?? Int.max
        print("100 MB input: peak RSS \(peak) MB (\(result.output.split(separator: "\n").last ?? ""))")
        XCTAssertLessThanOrEqual(peak, 4 * size / 1_000_000, "memory is not within a small multiple of the input")
    }

    func testSymlinkLoopIsReportedNotFollowedForever() throws {
        let loop = directory.appendingPathComponent("loop")
        try FileManager.default.createDirectory(at: loop, withIntermediateDirectories: true)
        try "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
            .write(to: loop.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: loop.appendingPathComponent("again").path, withDestinationPath: loop.path)
        let loaded = SourceLoader.load(paths: [loop.path])
        XCTAssertEqual(loaded.sources.count, 1)
        XCTAssertTrue(loaded.diagnostics.items.contains { $0.message.contains("symlink loop") })
        XCTAssertEqual(
            translate(loaded.sources, options: TranslationOptions(), loadDiagnostics: loaded.diagnostics).model.routes
                .count, 1)
    }

    /// A named pipe called `x.yaml` (reading it would block forever) and a file nobody may read, beside readable
    /// files: each is an error, and (as for any unreadable path) nothing is translated: exit status 2.
    func testUnreadableEntriesBesideReadableFiles() throws {
        try "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
            .write(to: directory.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(mkfifo(directory.appendingPathComponent("pipe.yaml").path, 0o644), 0)
        let closed = directory.appendingPathComponent("closed.yaml")
        try "kind: x\n".write(to: closed, atomically: true, encoding: .utf8)
        chmod(closed.path, 0)
        let loaded = SourceLoader.load(paths: [directory.path])
        XCTAssertTrue(
            loaded.diagnostics.items.contains { $0.message.contains("not a regular file") },
            "\(loaded.diagnostics.items)")
        if getuid() != 0 {  // root reads any file whatever its mode
            XCTAssertTrue(loaded.diagnostics.items.contains { $0.location?.file.hasSuffix("closed.yaml") == true })
        }
        XCTAssertEqual(
            translate(loaded.sources, options: TranslationOptions(), loadDiagnostics: loaded.diagnostics).exitStatus, 2)
    }

    func testDevZeroIsRefused() {
        let loaded = SourceLoader.load(paths: ["/dev/zero"])
        XCTAssertTrue(loaded.diagnostics.hasErrors)
        XCTAssertTrue(loaded.sources.isEmpty)
    }

    /// Many broken annotations in one file: each reported, without rescanning the file per error.
    func testManyBrokenAnnotations() throws {
        var text = ""
        for i in 0..<3000 {
            text +=
                "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\(i)\n  annotations:\n    getambassador.io/config: |\n      name: m\(i)\n      service: svc  weight: 20\n"
        }
        let translation = translate([SourceFile(name: "many.yaml", text: text)], options: TranslationOptions())
        XCTAssertEqual(translation.diagnostics.filter { $0.code == .fieldsShareLine }.count, 3000)
        XCTAssertEqual(translation.exitStatus, 1)
    }
}

extension HostileInputTests {
    /// A pipe named on the command line, as process substitution gives (`attache diff <(git show ...) new.yaml`),
    /// is read to its end.
    func testExplicitlyNamedPipeIsRead() throws {
        let pipe = directory.appendingPathComponent("named-pipe").path
        XCTAssertEqual(mkfifo(pipe, 0o644), 0)
        let text =
            "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: a}\nspec: {prefix: /a/, service: a}\n"
        Thread.detachNewThread {
            let fd = open(pipe, O_WRONLY)
            _ = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
            close(fd)
        }
        let loaded = SourceLoader.load(paths: [pipe])
        XCTAssertFalse(loaded.diagnostics.hasErrors, "\(loaded.diagnostics.items)")
        XCTAssertEqual(translate(loaded.sources, options: TranslationOptions()).model.routes.count, 1)
    }
}
