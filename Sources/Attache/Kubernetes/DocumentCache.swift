/// Reuses the objects of documents that did not change since the last run, for the sidecar, which re-reads its
/// inputs on every change: a weight step in a 10,000-Mapping file changes one document, not the file.
///
/// A file is cut at lines that start with `---` (YAML's document start marker: at column 0 it ends the previous
/// document even inside a block scalar, so each piece parses as it would in the whole stream). Each piece is keyed by
/// the file, its first line and a hash of its bytes; a piece seen before returns its objects and diagnostics
/// unparsed. Objects are shared between runs: `parseSources` renumbers them each time and nothing else changes them.
public final class DocumentCache: @unchecked Sendable {  // used by one sidecar loop at a time
    private struct Entry {
        var objects: [KubernetesObject]?
        var diagnostics: [Diagnostic]
    }

    private var entries: [String: Entry] = [:]
    private var used: [String: Entry] = [:]

    public init() {}

    /// Like `readKubernetesObjects`, reusing documents unchanged since the previous run.
    func objects(for source: SourceFile, log: inout DiagnosticLog) -> [KubernetesObject]? {
        guard let pieces = documentPieces(source.bytes) else { return readKubernetesObjects(from: source, log: &log) }
        var objects: [KubernetesObject] = []
        var complete = true
        for piece in pieces {
            let key = "\(source.name)\u{0}\(piece.firstLine)\u{0}\(contentHash(source.bytes[piece.range]))"
            let entry: Entry
            if let known = entries[key] ?? used[key] {
                entry = known
            } else {
                var pieceLog = DiagnosticLog()
                let parsed = readKubernetesObjects(
                    from: SourceFile(name: source.name, bytes: Array(source.bytes[piece.range])), firstLine: piece.firstLine, log: &pieceLog)
                entry = Entry(objects: parsed, diagnostics: pieceLog.items)
            }
            used[key] = entry
            for diagnostic in entry.diagnostics { log.add(diagnostic) }
            if let pieceObjects = entry.objects { objects += pieceObjects } else { complete = false }
        }
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
    var pieces: [(range: Range<Int>, firstLine: Int)] = []
    var start = 0, startLine = 1
    var lineStart = 0, line = 1
    while lineStart < bytes.count {
        if bytes[lineStart] == UInt8(ascii: "%") { return nil }
        let isMarker = lineStart + 2 < bytes.count && bytes[lineStart] == UInt8(ascii: "-") && bytes[lineStart + 1] == UInt8(ascii: "-")
            && bytes[lineStart + 2] == UInt8(ascii: "-")
            && (lineStart + 3 == bytes.count || [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[lineStart + 3]))
        if isMarker, lineStart > start {
            pieces.append((start..<lineStart, startLine))
            start = lineStart
            startLine = line
        }
        var next = lineStart
        while next < bytes.count, bytes[next] != UInt8(ascii: "\n") { next += 1 }
        lineStart = next + 1
        line += 1
    }
    if start < bytes.count || pieces.isEmpty { pieces.append((start..<bytes.count, startLine)) }
    return pieces
}
