import Foundation

/// Reuses what the documents of a file decoded to while their text is unchanged, for the sidecar, which re-reads its
/// inputs on every change: a weight step in a 10,000-Mapping file changes one document, not the file.
///
/// A file is cut at lines that start with `---` (YAML's document start marker: at column 0 it ends the previous
/// document even inside a block scalar, so each piece parses as it would in the whole stream). Each piece is keyed by
/// the file, its first line and a hash of its bytes; a piece seen before returns its decoded objects and diagnostics
/// unparsed. What is cached is immutable (the caller's decoded values), so runs share it safely; the decoding must
/// be the same on every run (a sidecar's is: its options do not change).
public final class DocumentCache<Decoded: Sendable>: @unchecked Sendable {  // used by one sidecar loop at a time
    private struct Entry {
        var objects: [Decoded]?
        var diagnostics: [Diagnostic]
    }

    /// A document of a file: where it starts and a hash of its bytes.
    private struct Piece: Hashable {
        var firstLine: Int
        var hash: UInt64
    }

    /// Each file's documents in file order, as the last run (`entries`) and this run (`used`) saw them. A run
    /// compares the pieces position by position first: after a typical edit every document but one is where it
    /// was, so 28,000 documents cost 28,000 comparisons of two integers, not dictionary lookups.
    private var entries: [String: [(key: Piece, entry: Entry)]] = [:]
    private var used: [String: [(key: Piece, entry: Entry)]] = [:]

    public init() {}

    /// Like `readKubernetesObjects`, reusing documents unchanged since the previous run.
    func objects(
        for source: SourceFile, decode: @escaping @Sendable (KubernetesObject) -> Decoded, log: inout DiagnosticLog
    ) -> [Decoded]? {
        guard let pieces = documentPieces(source.bytes) else {
            return readKubernetesObjects(from: source, decode: decode, log: &log)
        }
        let previous = entries[source.name] ?? []
        let keys = parallelMap(batches(of: Array(pieces.indices), minimumSize: 4096)) { batch in
            batch.map { Piece(firstLine: pieces[$0].firstLine, hash: contentHash(source.bytes[pieces[$0].range])) }
        }.flatMap { $0 }
        var found: [Entry?] = keys.indices.map {
            $0 < previous.count && previous[$0].key == keys[$0] ? previous[$0].entry : nil
        }
        if found.contains(where: { $0 == nil }) {
            // Documents moved, or new ones: look the rest up by key among the previous documents that were not
            // where they had been (and this run's, as a file may be listed twice).
            var known: [Piece: Entry] = [:]
            for (index, item) in previous.enumerated() where index >= found.count || found[index] == nil {
                known[item.key] = item.entry
            }
            for (key, entry) in used[source.name] ?? [] { known[key] = entry }
            for index in found.indices where found[index] == nil { found[index] = known[keys[index]] }
        }
        // New documents are parsed side by side (on the first run that is all of them), in batches of neighbours.
        let missing = found.indices.filter { found[$0] == nil }
        let batches = batches(of: missing, minimumSize: 64)
        let parsed = parallelMap(batches) { batch in
            batch.map { index -> Entry in
                var pieceLog = DiagnosticLog()
                let piece = pieces[index]
                let objects = readKubernetesObjects(
                    from: source, range: piece.range, firstLine: piece.firstLine, chunks: nil, decode: decode,
                    log: &pieceLog)
                return Entry(objects: objects, diagnostics: pieceLog.items)
            }
        }
        for (batch, entries) in zip(batches, parsed) {
            for (index, entry) in zip(batch, entries) { found[index] = entry }
        }
        var objects: [Decoded] = []
        var complete = true
        var usedHere: [(key: Piece, entry: Entry)] = []
        usedHere.reserveCapacity(keys.count)
        for (key, entry) in zip(keys, found) {
            guard let entry else { continue }  // every piece was found or parsed above
            usedHere.append((key, entry))
            log.add(contentsOf: entry.diagnostics)
            if let pieceObjects = entry.objects { objects += pieceObjects } else { complete = false }
        }
        used[source.name] = usedHere
        return complete ? objects : nil
    }

    /// Ends a run: what this run did not use is forgotten.
    public func endRun() {
        entries = used
        used = [:]
    }
}

/// Byte ranges of a file's documents and the line each starts on, cut before each line that starts with `---`
/// followed by a space, tab or line end. nil when the file has directives (`%YAML`), which belong to the document
/// after them: such a file is parsed whole.
func documentPieces(_ bytes: [UInt8]) -> [(range: Range<Int>, firstLine: Int)]? {
    bytes.withUnsafeBufferPointer { text -> [(range: Range<Int>, firstLine: Int)]? in
        guard text.baseAddress != nil else { return [(0..<0, 1)] }
        var pieces: [(range: Range<Int>, firstLine: Int)] = []
        var start = 0, startLine = 1
        var lineStart = 0, line = 1
        while lineStart < text.count {
            if text[lineStart] == UInt8(ascii: "%") { return nil }
            if text[lineStart] == UInt8(ascii: "-"), lineStart > start, isDocumentMarker(text, at: lineStart) {
                pieces.append((start..<lineStart, startLine))
                start = lineStart
                startLine = line
            }
            // This runs over every byte of the input on every sidecar change.
            guard let newline = text.indexOfNewline(from: lineStart) else { break }
            lineStart = newline + 1
            line += 1
        }
        if start < text.count || pieces.isEmpty { pieces.append((start..<text.count, startLine)) }
        return pieces
    }
}

/// `---` at `index` followed by a space, tab, line end or the end of the text.
private func isDocumentMarker(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
    guard index + 2 < text.count, text[index + 1] == UInt8(ascii: "-"), text[index + 2] == UInt8(ascii: "-") else {
        return false
    }
    guard index + 3 < text.count else { return true }
    switch text[index + 3] {
    case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): return true
    default: return false
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether a line starts with `%` (a directive, as `documentPieces` sees it). `memchr` for `%`, which is rare
    /// in Kubernetes YAML, rather than a look at every line.
    func hasDirectiveLine() -> Bool {
        guard let base = baseAddress else { return false }
        var from = 0
        while from < count, let found = memchr(base + from, Int32(UInt8(ascii: "%")), count - from) {
            let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if index == 0 || self[index - 1] == UInt8(ascii: "\n") { return true }
            from = index + 1
        }
        return false
    }

    /// The first line start at or after `offset` where a document marker (`---`) begins: where `documentPieces`
    /// would cut.
    func firstDocumentStart(atOrAfter offset: Int) -> Int? {
        var lineStart = offset
        if lineStart > 0, lineStart < count, self[lineStart - 1] != UInt8(ascii: "\n") {
            guard let newline = indexOfNewline(from: lineStart) else { return nil }
            lineStart = newline + 1
        }
        while lineStart < count {
            if self[lineStart] == UInt8(ascii: "-"), isDocumentMarker(self, at: lineStart) { return lineStart }
            guard let newline = indexOfNewline(from: lineStart) else { return nil }
            lineStart = newline + 1
        }
        return nil
    }
}
