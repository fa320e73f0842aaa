@testable import Attache
import Foundation
import XCTest

/// The sidecar's DocumentCache must give exactly what parsing the whole file gives.
final class DocumentCacheTests: XCTestCase {
    func summary(_ input: ParsedInput) -> [String] {
        input.objects.map { "\($0.reference) \($0.location) \($0.origin) \($0.inputOrder)" } + input.log.sorted.map(\.description)
    }

    func testEveryFixtureParsesTheSameWithTheCache() throws {
        let cache = DocumentCache()
        for fixture in FixtureCase.all() {
            let sources = try fixture.sources()
            let whole = parseSources(sources)
            let cold = parseSources(sources, cache: cache)
            let warm = parseSources(sources, cache: cache)
            XCTAssertEqual(summary(cold), summary(whole), "\(fixture.name): first run with the cache")
            XCTAssertEqual(summary(warm), summary(whole), "\(fixture.name): second run with the cache")
            XCTAssertEqual(cold.isComplete, whole.isComplete, fixture.name)
            let options = try fixture.options()
            XCTAssertEqual(translateObjects(warm, options: options).envoy, translateObjects(parseSources(sources), options: options).envoy, fixture.name)
        }
    }

    func testAnEditReparsesOnlyWhatChangedAndStillMatches() throws {
        var text = ""
        for i in 0..<50 {
            text += "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: m\(i)}\nspec: {prefix: /p\(i)/, service: s\(i), weight: \(i % 2 == 0 ? 10 : 20)}\n"
        }
        let cache = DocumentCache()
        _ = parseSources([SourceFile(name: "in.yaml", text: text)], cache: cache)
        let edited = text.replacingOccurrences(of: "metadata: {name: m7}\nspec: {prefix: /p7/, service: s7, weight: 20}", with: "metadata: {name: m7}\nspec: {prefix: /p7/, service: s7, weight: 30}")
        XCTAssertNotEqual(edited, text)
        let cached = parseSources([SourceFile(name: "in.yaml", text: edited)], cache: cache)
        let whole = parseSources([SourceFile(name: "in.yaml", text: edited)])
        XCTAssertEqual(summary(cached), summary(whole))
        XCTAssertEqual(translateObjects(cached, options: TranslationOptions()).envoy, translateObjects(whole, options: TranslationOptions()).envoy)
        // A broken document stops the file, as a whole-file parse does; fixing it recovers.
        let broken = edited.replacingOccurrences(of: "{name: m9}", with: "{name: m9")
        XCTAssertFalse(parseSources([SourceFile(name: "in.yaml", text: broken)], cache: cache).isComplete)
        XCTAssertTrue(parseSources([SourceFile(name: "in.yaml", text: edited)], cache: cache).isComplete)
    }

    /// Documents that moved without changing lines (a `---` replaced by a comment merges two documents; the ones
    /// after keep their lines but not their positions) are found by key, and the result is the whole-file parse.
    func testMovedDocumentsAreFoundByKeyAndStillMatch() throws {
        var text = ""
        for i in 0..<20 {
            text += "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: m\(i)}\nspec: {prefix: /p\(i)/, service: s\(i)}\n"
        }
        let options = TranslationOptions()
        let cache = DocumentCache()
        _ = parseSources([SourceFile(name: "in.yaml", text: text)], cache: cache, options: options)
        // The marker before m5 becomes a comment: m4 and m5 are one document (m5's keys win, with duplicate-key
        // warnings), and every later document keeps its lines but moves up one place.
        var lines = text.components(separatedBy: "\n")
        let marker = try XCTUnwrap(lines.firstIndex(of: "metadata: {name: m5}")) - 3
        XCTAssertEqual(lines[marker], "---")
        lines[marker] = "# merged"
        let edited = lines.joined(separator: "\n")
        let cached = parseSources([SourceFile(name: "in.yaml", text: edited)], cache: cache, options: options)
        let whole = parseSources([SourceFile(name: "in.yaml", text: edited)], options: options)
        XCTAssertEqual(summary(cached), summary(whole))
        XCTAssertEqual(translateObjects(cached, options: options).envoy, translateObjects(whole, options: options).envoy)
        XCTAssertEqual(cached.objects.count, 19)
        // A line added on top moves every document down a line: same bytes, new positions; nothing may be reused
        // with its old line numbers.
        let shifted = "# a comment on top\n" + edited
        XCTAssertEqual(
            summary(parseSources([SourceFile(name: "in.yaml", text: shifted)], cache: cache, options: options)),
            summary(parseSources([SourceFile(name: "in.yaml", text: shifted)], options: options)))
    }

    func testPiecesCutAtDocumentMarkersOnly() {
        let text = "a: 1\n---\nb: |\n  ---not a marker\n  x\n--- # marker with a comment\nc: 3\n---x: not a marker\n"
        let pieces = documentPieces(Array(text.utf8)) ?? []
        XCTAssertEqual(pieces.map(\.firstLine), [1, 2, 6])
        XCTAssertNil(documentPieces(Array("%YAML 1.1\n---\na: 1\n".utf8)), "directives: parse whole")
    }
}

/// A large file is parsed in chunks on several threads; the result must be exactly the one-stream parse.
final class ParallelParseTests: XCTestCase {
    func testEveryFixtureParsesTheSameInChunks() throws {
        var chunked = 0
        for fixture in FixtureCase.all() {
            for source in try fixture.sources() {
                var serialLog = DiagnosticLog()
                let serial = readKubernetesObjects(from: source, firstLine: 1, chunks: nil, log: &serialLog)
                for width in [2, 3, 7] {
                    let chunks = parallelChunks(of: source.bytes, width: width, threshold: 0)
                    if chunks != nil { chunked += 1 }
                    var log = DiagnosticLog()
                    let objects = readKubernetesObjects(from: source, firstLine: 1, chunks: chunks, log: &log)
                    XCTAssertEqual(objects.map(describe), serial.map(describe), "\(fixture.name) \(source.name) width \(width)")
                    XCTAssertEqual(log.sorted.map(\.description), serialLog.sorted.map(\.description), "\(fixture.name) width \(width)")
                }
            }
        }
        XCTAssertGreaterThan(chunked, 30, "most fixtures have several documents and were really cut")
    }

    /// Chunks parsed in parallel with early decoding (as `translate` runs on a large file) translate exactly as the
    /// serial parse decoded late.
    func testChunksDecodedEarlyTranslateLikeTheSerialParse() throws {
        func translated(_ objects: [KubernetesObject]?, _ log: DiagnosticLog, _ options: TranslationOptions) -> Translation {
            let list = objects ?? []
            for (index, object) in list.enumerated() { object.inputOrder = index + 1 }
            return translateObjects(ParsedInput(objects: list, isComplete: objects != nil, log: log), options: options)
        }
        for fixture in FixtureCase.all() {
            let options = try fixture.options()
            for source in try fixture.sources() {
                var serialLog = DiagnosticLog()
                let serial = translated(readKubernetesObjects(from: source, firstLine: 1, chunks: nil, log: &serialLog), serialLog, options)
                var chunkedLog = DiagnosticLog()
                let chunks = parallelChunks(of: source.bytes, width: 3, threshold: 0)
                let chunked = translated(
                    readKubernetesObjects(from: source, firstLine: 1, chunks: chunks, options: options, log: &chunkedLog), chunkedLog, options)
                XCTAssertEqual(chunked.envoy, serial.envoy, "\(fixture.name) \(source.name)")
                XCTAssertEqual(chunked.diagnostics.map(\.description), serial.diagnostics.map(\.description), "\(fixture.name) \(source.name)")
            }
        }
    }

    func testChunksAreWholeDocumentsCoveringTheFile() {
        var text = ""
        for i in 0..<100 { text += "---\nkind: Service\nmetadata: {name: s\(i)}\n" + String(repeating: "# padding\n", count: i % 7) }
        let bytes = Array(text.utf8)
        for width in 2...5 {
            guard let chunks = parallelChunks(of: bytes, width: width, threshold: 0) else { return XCTFail("not cut") }
            XCTAssertEqual(chunks.count, width)
            XCTAssertEqual(chunks.first?.range.lowerBound, 0)
            XCTAssertEqual(chunks.last?.range.upperBound, bytes.count)
            for (a, b) in zip(chunks, chunks.dropFirst()) { XCTAssertEqual(a.range.upperBound, b.range.lowerBound) }
            for chunk in chunks {
                XCTAssertTrue(bytes[chunk.range].starts(with: Array("---\n".utf8)))
                let linesBefore = bytes[..<chunk.range.lowerBound].filter { $0 == UInt8(ascii: "\n") }.count
                XCTAssertEqual(chunk.firstLine, linesBefore + 1)
            }
            // Balanced: no chunk holds more than twice its share.
            XCTAssertTrue(chunks.allSatisfy { $0.range.count <= 2 * bytes.count / width }, "\(chunks.map(\.range.count))")
        }
        XCTAssertNil(parallelChunks(of: Array("a: 1\n".utf8), width: 2, threshold: 0), "one document: nothing to cut")
        XCTAssertNil(parallelChunks(of: bytes, width: 1, threshold: 0), "one processor")
        XCTAssertNil(parallelChunks(of: bytes, width: 2, threshold: bytes.count + 1), "small file")
    }

    /// The cuts are where cutting the list of all documents (`documentPieces`) at each share would put them; the
    /// texts mix markers, near-markers, `%` inside and at the start of lines, CRLF and empty lines.
    func testChunksCutWhereTheDocumentListWould() {
        func reference(_ bytes: [UInt8], width: Int) -> [(range: Range<Int>, firstLine: Int)]? {
            guard width > 1, let pieces = documentPieces(bytes), pieces.count > 1 else { return nil }
            var chunks: [(range: Range<Int>, firstLine: Int)] = []
            var start = pieces[0]
            for piece in pieces.dropFirst() where piece.range.lowerBound >= bytes.count * (chunks.count + 1) / width && chunks.count < width - 1 {
                chunks.append((start.range.lowerBound..<piece.range.lowerBound, start.firstLine))
                start = piece
            }
            chunks.append((start.range.lowerBound..<bytes.count, start.firstLine))
            return chunks.count > 1 ? chunks : nil
        }
        let lines = ["---", "--- ", "---\r", "---x", "--", "a: 1", "b: 50%", "%YAML 1.1", " ---", "", "c: |", "  ---", "-- -", "- x"]
        var generator = SystemRandomNumberGenerator()
        var cut = 0
        for _ in 0..<3000 {
            let count = Int.random(in: 0..<30, using: &generator)
            var text = (0..<count).map { _ in lines.randomElement(using: &generator)! }.joined(separator: "\n")
            if Bool.random(using: &generator) { text += "\n" }
            let bytes = Array(text.utf8)
            for width in 2...4 {
                let expected = reference(bytes, width: width)
                let chunks = parallelChunks(of: bytes, width: width, threshold: 0)
                XCTAssertEqual(chunks?.map(\.range), expected?.map(\.range), "\(text.debugDescription) width \(width)")
                XCTAssertEqual(chunks?.map(\.firstLine), expected?.map(\.firstLine), "\(text.debugDescription) width \(width)")
                if chunks != nil { cut += 1 }
            }
        }
        XCTAssertGreaterThan(cut, 1000, "many texts were really cut")
    }

    /// The word-at-a-time count agrees with counting byte by byte: bytes near a line feed's bits (0x0b, 0x8a, 0x00,
    /// 0xff), runs long enough for the lanes to be summed several times, every alignment of start and end.
    func testLineFeedsCountsEveryLineFeed() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = [0x0a, 0x0a, 0x0b, 0x8a, 0x00, 0xff, 0x09, 0x2d, 0x7f, 0x80]
        for length in [0, 1, 7, 8, 9, 2039, 2040, 2041, 4097, 20_000] {
            let allFeeds = [UInt8](repeating: 0x0a, count: length)
            let mixed = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            for bytes in [allFeeds, mixed] {
                for _ in 0..<8 {
                    let lower = Int.random(in: 0...length, using: &generator)
                    let upper = Int.random(in: lower...length, using: &generator)
                    let expected = bytes[lower..<upper].filter { $0 == 0x0a }.count
                    XCTAssertEqual(bytes.withUnsafeBufferPointer { $0.lineFeeds(in: lower..<upper) }, expected, "\(lower)..<\(upper) of \(length)")
                }
                XCTAssertEqual(bytes.withUnsafeBufferPointer { $0.lineFeeds(in: 0..<length) }, bytes.filter { $0 == 0x0a }.count)
            }
        }
    }

    /// The forward cursor finds the same line starts as a full index, also when asked for an earlier line, in a
    /// part of a file and past its end.
    func testStartOfLineMatchesALineIndex() {
        let text = "a: 1\n\nb: |\n  x\n\r\n---\nc: 3\nd" + String(repeating: "\nline", count: 50)
        let bytes = Array(text.utf8)
        var generator = SystemRandomNumberGenerator()
        for range in [0..<bytes.count, 5..<bytes.count, 9..<40] {
            var starts = [range.lowerBound]
            for index in range where bytes[index] == UInt8(ascii: "\n") { starts.append(index + 1) }
            var reader = ObjectReader(source: SourceFile(name: "t.yaml", bytes: bytes), range: range)
            for _ in 0..<300 {
                let line = Int.random(in: 1...(starts.count + 3), using: &generator)
                XCTAssertEqual(reader.startOfLine(line), line <= starts.count ? starts[line - 1] : nil, "line \(line) of \(range)")
            }
        }
    }

    private func describe(_ objects: [KubernetesObject]?) -> [String]? {
        // The body's reflection covers every node, value, style and position.
        objects?.map { "\($0.reference) \($0.location) \($0.origin) \($0.fields.mark) \(String(reflecting: $0.body))" }
    }
}

/// Objects decoded as they are read (and their trees freed) must translate exactly as objects decoded later from
/// their trees.
final class EarlyDecodingTests: XCTestCase {
    private func report(_ translation: Translation) -> [String] {
        translation.diagnostics.map(\.description) + ["\(translation.isComplete) \(translation.resources.mappings.count)"]
    }

    func testEveryFixtureTranslatesTheSameDecodedEarlyOrLate() throws {
        var released = 0
        for fixture in FixtureCase.all() {
            let sources = try fixture.sources()
            let options = try fixture.options()
            let early = parseSources(sources, options: options)
            released += early.objects.filter { !$0.hasTree }.count
            let late = translateObjects(parseSources(sources), options: options)
            let fromEarly = translateObjects(early, options: options)
            XCTAssertEqual(fromEarly.envoy, late.envoy, fixture.name)
            XCTAssertEqual(fromEarly.model.groups, late.model.groups, fixture.name)
            XCTAssertEqual(report(fromEarly), report(late), fixture.name)
        }
        XCTAssertGreaterThan(released, 100, "most objects' trees were let go")
    }

    func testRegexMappingsAreDecodedAgainWhenTheModuleChangesTheLimit() {
        // The Module comes after the Mappings: early decoding can only use the default limit (200).
        let regex = String(repeating: "x", count: 120)  // about 120 instructions: within 200, not within 100
        let text = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: plain}
            spec: {prefix: /plain/, service: plain}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: regex}
            spec: {prefix: /regex/, service: regex, regex_headers: {x-token: "\(regex)"}}
            ---
            apiVersion: getambassador.io/v2
            kind: Module
            metadata: {name: ambassador}
            spec: {config: {regex_max_size: 100}}
            """
        let sources = [SourceFile(name: "in.yaml", text: text)]
        let parsed = parseSources(sources, options: TranslationOptions())
        XCTAssertEqual(parsed.objects.map(\.hasTree), [false, true, true], "plain Mapping released; regex Mapping and Module kept")
        let early = translateObjects(parsed, options: TranslationOptions())
        let late = translateObjects(parseSources(sources), options: TranslationOptions())
        XCTAssertEqual(early.resources.mappings.map(\.reference.name), ["plain"], "the regex is too large for the Module's limit")
        XCTAssertEqual(report(early), report(late))
        XCTAssertEqual(early.envoy, late.envoy)
    }
}
