import Foundation
import XCTest

@testable import Attache

/// The sidecar's DocumentCache must give exactly what parsing the whole file gives.
final class DocumentCacheTests: XCTestCase {
    func summary(_ input: ParsedInput) -> [String] {
        input.objects.enumerated().map {
            "\($0.offset) \($0.element.reference) \($0.element.location) \($0.element.origin)"
        }
            + input.log.sorted.map(\.description)
    }

    func testEveryFixtureParsesTheSameWithTheCache() throws {
        for fixture in FixtureCase.all() {
            let cache = DocumentCache<AmbassadorObject>()
            let sources = try fixture.sources()
            let options = try fixture.options()
            let whole = parseSources(sources, options: options)
            let cold = parseSources(sources, cache: cache, options: options)
            let warm = parseSources(sources, cache: cache, options: options)
            XCTAssertEqual(summary(cold), summary(whole), "\(fixture.name): first run with the cache")
            XCTAssertEqual(summary(warm), summary(whole), "\(fixture.name): second run with the cache")
            XCTAssertEqual(cold.isComplete, whole.isComplete, fixture.name)
            XCTAssertEqual(
                translateObjects(warm, options: options).envoy,
                translateObjects(parseSources(sources, options: options), options: options).envoy,
                fixture.name)
        }
    }

    func testAnEditReparsesOnlyWhatChangedAndStillMatches() throws {
        var text = ""
        for i in 0..<50 {
            text +=
                "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: m\(i)}\nspec: {prefix: /p\(i)/, service: s\(i), weight: \(i % 2 == 0 ? 10 : 20)}\n"
        }
        let options = TranslationOptions()
        let cache = DocumentCache<AmbassadorObject>()
        _ = parseSources([SourceFile(name: "in.yaml", text: text)], cache: cache, options: options)
        let edited = text.replacingOccurrences(
            of: "metadata: {name: m7}\nspec: {prefix: /p7/, service: s7, weight: 20}",
            with: "metadata: {name: m7}\nspec: {prefix: /p7/, service: s7, weight: 30}")
        XCTAssertNotEqual(edited, text)
        let cached = parseSources([SourceFile(name: "in.yaml", text: edited)], cache: cache, options: options)
        let whole = parseSources([SourceFile(name: "in.yaml", text: edited)], options: options)
        XCTAssertEqual(summary(cached), summary(whole))
        XCTAssertEqual(
            translateObjects(cached, options: options).envoy, translateObjects(whole, options: options).envoy)
        // A broken document stops the file, as a whole-file parse does; fixing it recovers.
        let broken = edited.replacingOccurrences(of: "{name: m9}", with: "{name: m9")
        XCTAssertFalse(
            parseSources([SourceFile(name: "in.yaml", text: broken)], cache: cache, options: options).isComplete)
        XCTAssertTrue(
            parseSources([SourceFile(name: "in.yaml", text: edited)], cache: cache, options: options).isComplete)
    }

    /// Documents that moved without changing lines (a `---` replaced by a comment merges two documents; the ones
    /// after keep their lines but not their positions) are found by key, and the result is the whole-file parse.
    func testMovedDocumentsAreFoundByKeyAndStillMatch() throws {
        var text = ""
        for i in 0..<20 {
            text +=
                "---\napiVersion: getambassador.io/v2\nkind: Mapping\nmetadata: {name: m\(i)}\nspec: {prefix: /p\(i)/, service: s\(i)}\n"
        }
        let options = TranslationOptions()
        let cache = DocumentCache<AmbassadorObject>()
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
        XCTAssertEqual(
            translateObjects(cached, options: options).envoy, translateObjects(whole, options: options).envoy)
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
        let keep: @Sendable (KubernetesObject) -> KubernetesObject = { $0 }
        for fixture in FixtureCase.all() {
            for source in try fixture.sources() {
                var serialLog = DiagnosticLog()
                let serial = readKubernetesObjects(
                    from: source, firstLine: 1, chunks: nil, decode: keep, log: &serialLog)
                for width in [2, 3, 7] {
                    let chunks = parallelChunks(of: source.bytes, width: width, threshold: 0)
                    if chunks != nil { chunked += 1 }
                    var log = DiagnosticLog()
                    let objects = readKubernetesObjects(
                        from: source, firstLine: 1, chunks: chunks, decode: keep, log: &log)
                    XCTAssertEqual(
                        objects.map(describe), serial.map(describe), "\(fixture.name) \(source.name) width \(width)")
                    XCTAssertEqual(
                        log.sorted.map(\.description), serialLog.sorted.map(\.description),
                        "\(fixture.name) width \(width)")
                }
            }
        }
        XCTAssertGreaterThan(chunked, 30, "most fixtures have several documents and were really cut")
    }

    /// Chunks parsed and decoded in parallel (as `translate` runs on a large file) translate exactly as the serial
    /// parse.
    func testChunksDecodedInParallelTranslateLikeTheSerialParse() throws {
        for fixture in FixtureCase.all() {
            let options = try fixture.options()
            let ambassadorID = options.installation.id
            let decode: @Sendable (KubernetesObject) -> AmbassadorObject = {
                decodeAmbassadorObject($0, ambassadorID: ambassadorID)
            }
            func translated(_ objects: [AmbassadorObject]?, _ log: DiagnosticLog) -> Translation {
                translateObjects(
                    ParsedInput(objects: objects ?? [], isComplete: objects != nil, log: log), options: options)
            }
            for source in try fixture.sources() {
                var serialLog = DiagnosticLog()
                let serial = translated(
                    readKubernetesObjects(from: source, firstLine: 1, chunks: nil, decode: decode, log: &serialLog),
                    serialLog)
                var chunkedLog = DiagnosticLog()
                let chunks = parallelChunks(of: source.bytes, width: 3, threshold: 0)
                let chunked = translated(
                    readKubernetesObjects(from: source, firstLine: 1, chunks: chunks, decode: decode, log: &chunkedLog),
                    chunkedLog)
                XCTAssertEqual(chunked.envoy, serial.envoy, "\(fixture.name) \(source.name)")
                XCTAssertEqual(
                    chunked.diagnostics.map(\.description), serial.diagnostics.map(\.description),
                    "\(fixture.name) \(source.name)")
            }
        }
    }

    func testChunksAreWholeDocumentsCoveringTheFile() {
        var text = ""
        for i in 0..<100 {
            text += "---\nkind: Service\nmetadata: {name: s\(i)}\n" + String(repeating: "# padding\n", count: i % 7)
        }
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
            XCTAssertTrue(
                chunks.allSatisfy { $0.range.count <= 2 * bytes.count / width }, "\(chunks.map(\.range.count))")
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
            for piece in pieces.dropFirst()
            where piece.range.lowerBound >= bytes.count * (chunks.count + 1) / width && chunks.count < width - 1 {
                chunks.append((start.range.lowerBound..<piece.range.lowerBound, start.firstLine))
                start = piece
            }
            chunks.append((start.range.lowerBound..<bytes.count, start.firstLine))
            return chunks.count > 1 ? chunks : nil
        }
        let lines = [
            "---", "--- ", "---\r", "---x", "--", "a: 1", "b: 50%", "%YAML 1.1", " ---", "", "c: |", "  ---", "-- -",
            "- x",
        ]
        var generator = seededRandom()
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
                XCTAssertEqual(
                    chunks?.map(\.firstLine), expected?.map(\.firstLine), "\(text.debugDescription) width \(width)")
                if chunks != nil { cut += 1 }
            }
        }
        XCTAssertGreaterThan(cut, 1000, "many texts were really cut")
    }

    /// The word-at-a-time count agrees with counting byte by byte: bytes near a line feed's bits (0x0b, 0x8a, 0x00,
    /// 0xff), runs long enough for the lanes to be summed several times, every alignment of start and end.
    func testLineFeedsCountsEveryLineFeed() {
        var generator = seededRandom()
        let alphabet: [UInt8] = [0x0a, 0x0a, 0x0b, 0x8a, 0x00, 0xff, 0x09, 0x2d, 0x7f, 0x80]
        for length in [0, 1, 7, 8, 9, 2039, 2040, 2041, 4097, 20_000] {
            let allFeeds = [UInt8](repeating: 0x0a, count: length)
            let mixed = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
            for bytes in [allFeeds, mixed] {
                for _ in 0..<8 {
                    let lower = Int.random(in: 0...length, using: &generator)
                    let upper = Int.random(in: lower...length, using: &generator)
                    let expected = bytes[lower..<upper].filter { $0 == 0x0a }.count
                    XCTAssertEqual(
                        bytes.withUnsafeBufferPointer { $0.lineFeeds(in: lower..<upper) }, expected,
                        "\(lower)..<\(upper) of \(length)")
                }
                XCTAssertEqual(
                    bytes.withUnsafeBufferPointer { $0.lineFeeds(in: 0..<length) }, bytes.filter { $0 == 0x0a }.count)
            }
        }
    }

    /// The forward cursor finds the same line starts as a full index, also when asked for an earlier line, in a
    /// part of a file and past its end.
    func testStartOfLineMatchesALineIndex() {
        let text = "a: 1\n\nb: |\n  x\n\r\n---\nc: 3\nd" + String(repeating: "\nline", count: 50)
        let bytes = Array(text.utf8)
        var generator = seededRandom()
        for range in [0..<bytes.count, 5..<bytes.count, 9..<40] {
            var starts = [range.lowerBound]
            for index in range where bytes[index] == UInt8(ascii: "\n") { starts.append(index + 1) }
            var reader = ObjectReader(source: SourceFile(name: "t.yaml", bytes: bytes), range: range)
            for _ in 0..<300 {
                let line = Int.random(in: 1...(starts.count + 3), using: &generator)
                XCTAssertEqual(
                    reader.startOfLine(line), line <= starts.count ? starts[line - 1] : nil, "line \(line) of \(range)")
            }
        }
    }

    private func describe(_ objects: [KubernetesObject]?) -> [String]? {
        // The body's reflection covers every node, value, style and position.
        objects?.map { "\($0.reference) \($0.location) \($0.origin) \($0.fields.mark) \(String(reflecting: $0.body))" }
    }
}

/// Decoding needs nothing but the object; what depends on other objects is checked when the resources are collected.
final class RegexLimitTests: XCTestCase {
    private let regex = String(repeating: "x", count: 120)  // about 120 instructions: within 200, not within 100

    private func input(limit: Int?) -> String {
        var text = """
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: plain}
            spec: {prefix: /plain/, service: plain}
            ---
            apiVersion: getambassador.io/v2
            kind: Mapping
            metadata: {name: regex}
            spec: {prefix: /regex/, service: regex, regex_headers: {x-token: "\(regex)"}}

            """
        if let limit {
            // The Module comes after the Mappings: their decoding cannot know its limit.
            text +=
                "---\napiVersion: getambassador.io/v2\nkind: Module\nmetadata: {name: ambassador}\nspec: {config: {regex_max_size: \(limit)}}\n"
        }
        return text
    }

    func testAModuleLaterInTheInputSetsTheLimitForEarlierMappings() throws {
        let options = TranslationOptions()
        let within = translate([SourceFile(name: "in.yaml", text: input(limit: nil))], options: options)
        XCTAssertEqual(within.resources.mappings.map(\.reference.name), ["plain", "regex"], "the default limit is 200")
        let over = translate([SourceFile(name: "in.yaml", text: input(limit: 100))], options: options)
        XCTAssertEqual(
            over.resources.mappings.map(\.reference.name), ["plain"], "the regex is too large for the Module's limit")
        let error = try XCTUnwrap(over.diagnostics.first { $0.code == .regexInvalid })
        XCTAssertEqual(error.location?.line, 9, "the diagnostic points at the regex")
        XCTAssertTrue(error.message.contains("over the limit of 100"), error.message)
    }

    /// The sidecar keeps decoded documents between runs: a Module added later still bounds a cached Mapping.
    func testACachedMappingIsCheckedAgainstAModuleAddedLater() {
        let options = TranslationOptions()
        let cache = DocumentCache<AmbassadorObject>()
        let first = translateObjects(
            parseSources([SourceFile(name: "in.yaml", text: input(limit: nil))], cache: cache, options: options),
            options: options)
        XCTAssertEqual(first.resources.mappings.count, 2)
        let second = translateObjects(
            parseSources([SourceFile(name: "in.yaml", text: input(limit: 100))], cache: cache, options: options),
            options: options)
        XCTAssertEqual(second.resources.mappings.map(\.reference.name), ["plain"])
        let third = translateObjects(
            parseSources([SourceFile(name: "in.yaml", text: input(limit: 1000))], cache: cache, options: options),
            options: options)
        XCTAssertEqual(third.resources.mappings.count, 2)
    }
}
