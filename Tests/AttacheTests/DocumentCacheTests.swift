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

    func testPiecesCutAtDocumentMarkersOnly() {
        let text = "a: 1\n---\nb: |\n  ---not a marker\n  x\n--- # marker with a comment\nc: 3\n---x: not a marker\n"
        let pieces = documentPieces(Array(text.utf8)) ?? []
        XCTAssertEqual(pieces.map(\.firstLine), [1, 2, 6])
        XCTAssertNil(documentPieces(Array("%YAML 1.1\n---\na: 1\n".utf8)), "directives: parse whole")
    }
}
