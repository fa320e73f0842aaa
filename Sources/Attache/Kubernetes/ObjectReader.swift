import YAML

/// The namespace an object without `metadata.namespace` lands in, as `kubectl apply` would place it.
let defaultNamespace = "default"

/// The annotation that carries Ambassador configuration on Services and Ingresses.
let ambassadorConfigAnnotation = "getambassador.io/config"

/// Stage: one input file → Kubernetes objects (annotation documents included), each handed to `decode` as soon as its
/// document is read, on the thread that read it; what `decode` makes of it comes back, in file order. The object and
/// its node tree are let go right after, so a large file never has all its trees in memory. This stage knows nothing
/// of what `decode` does (the Ambassador stage passes its own decoding).
///
/// Returns nil when the file is not valid YAML: that stops the run, because nothing in the file can be trusted.
/// Anything wrong with one object is reported and only that object is dropped.
///
/// `firstLine` is the line of the file where `source` starts (DocumentCache parses a file document by document).
public func readKubernetesObjects<Decoded: Sendable>(
    from source: SourceFile, firstLine: Int = 1, decode: @Sendable (KubernetesObject) -> Decoded,
    log: inout DiagnosticLog
) -> [Decoded]? {
    readKubernetesObjects(
        from: source, firstLine: firstLine, chunks: parallelChunks(of: source.bytes), decode: decode, log: &log)
}

/// `readKubernetesObjects` of the bytes `range` of a file (nil: all of it), which begin on line `firstLine`, already
/// cut into `chunks` (nil: one stream); tests cut small files too.
func readKubernetesObjects<Decoded: Sendable>(
    from source: SourceFile, range: Range<Int>? = nil, firstLine: Int, chunks: [(range: Range<Int>, firstLine: Int)]?,
    decode: @Sendable (KubernetesObject) -> Decoded, log: inout DiagnosticLog
) -> [Decoded]? {
    let range = range ?? source.bytes.indices
    if let chunks {
        // A large file is cut into one run of whole documents per processor, each parsed on its own thread (libyaml
        // and the tree builder are most of the run time). The pieces are merged in file order.
        var results = parallelMap(chunks) { chunk -> ([Decoded]?, DiagnosticLog) in
            var chunkLog = DiagnosticLog()
            let objects = readObjects(
                from: source, range: chunk.range, firstLine: firstLine + chunk.firstLine - 1, decode: decode,
                log: &chunkLog)
            return (objects, chunkLog)
        }
        if results.allSatisfy({ $0.0 != nil }) {
            // The first chunk's array is taken over as it is, the others appended: copying every element twice would
            // cost an atomic count each, on memory the other processor wrote.
            var merged: [Decoded] = []
            for index in results.indices {
                log.add(contentsOf: results[index].1)
                guard let objects = results[index].0.take() else { continue }
                if merged.isEmpty { merged = objects } else { merged.append(contentsOf: objects) }
            }
            return merged
        }
        // A syntax error stops the file: parse it as one stream, so the report is exactly what that says.
    }
    return readObjects(from: source, range: range, firstLine: firstLine, decode: decode, log: &log)
}

/// Files smaller than this are parsed on one thread: starting threads would cost more than it saves.
let parallelParseThreshold = 256 << 10

/// Byte ranges of up to `parallelWidth` runs of whole documents of similar size, or nil when the file should be
/// parsed as one stream (small, a single document, or directives, which `documentPieces` does not cut either).
/// Each cut is the first document start (a `---` line) at or after its share of the file. Only the bytes around
/// the cuts are looked at line by line: this runs before the parse can start, on one processor.
func parallelChunks(of bytes: [UInt8], width: Int = parallelWidth, threshold: Int = parallelParseThreshold) -> [(
    range: Range<Int>, firstLine: Int
)]? {
    guard width > 1, bytes.count >= threshold else { return nil }
    return bytes.withUnsafeBufferPointer { text -> [(range: Range<Int>, firstLine: Int)]? in
        guard !text.isEmpty, !text.hasDirectiveLine() else { return nil }
        var cuts: [Int] = []
        var next = 1  // a document starting at byte 0 is the first chunk's, not a cut
        for share in 1..<width {
            guard let cut = text.firstDocumentStart(atOrAfter: max(text.count * share / width, next)) else { break }
            cuts.append(cut)
            next = cut + 1
        }
        guard !cuts.isEmpty else { return nil }
        var chunks: [(range: Range<Int>, firstLine: Int)] = []
        var start = 0, line = 1
        for cut in cuts {
            chunks.append((start..<cut, line))
            line += text.lineFeeds(in: start..<cut)
            start = cut
        }
        chunks.append((start..<text.count, line))
        return chunks
    }
}

/// One stream (the bytes `range` of a file, read in place) → decoded objects, on the calling thread, document by
/// document: each document's tree is built, read into objects, each decoded, and freed before the next one is built.
private func readObjects<Decoded: Sendable>(
    from source: SourceFile, range: Range<Int>, firstLine: Int, decode: (KubernetesObject) -> Decoded,
    log: inout DiagnosticLog
) -> [Decoded]? {
    var reader = ObjectReader(source: source, range: range, firstLine: firstLine)
    var decoded: [Decoded] = []
    // What the documents report is kept apart until the whole file has parsed: a syntax error further down
    // discards the file, and then only the error is reported.
    var documentsLog = DiagnosticLog()
    let warnings: [YAMLWarning]
    do {
        var objects: [KubernetesObject] = []
        warnings = try parseYAML(
            reader.bytes, placement: firstLine == 1 ? .identity : .shifted(lines: firstLine - 1, columns: 0)
        ) { document in
            reader.readDocument(document.root, into: &objects, log: &documentsLog)
            for object in objects { decoded.append(decode(object)) }
            objects.removeAll(keepingCapacity: true)
        }
    } catch {
        let said = describedYAMLError(error, line: { reader.line($0) })
        log.error(
            said.code, said.message,
            at: SourceLocation(file: source.name, line: error.mark.line, column: error.mark.column))
        return nil
    }
    for warning in warnings {
        log.warning(
            .yamlDuplicateKey, warning.message,
            at: SourceLocation(file: source.name, line: warning.mark.line, column: warning.mark.column))
    }
    log.add(contentsOf: documentsLog)
    return decoded
}

/// Reads documents of one file (or of a run of its documents) into objects; finds the file lines that annotation
/// contents start on, and the text of a line for error hints.
struct ObjectReader {
    let source: SourceFile
    /// The part of the file being read (all of it, or one run of its documents), indexed as in the whole file.
    let bytes: ArraySlice<UInt8>
    /// Lines of the file before `bytes` (nodes carry file lines).
    let linesBefore: Int
    /// Where each line of `bytes` starts (file offsets), for error hints.
    private var lineStarts: [Int]? = nil
    /// The line `startOfLine` found last, and where it starts.
    private var lineCursor: (line: Int, offset: Int)

    init(source: SourceFile, range: Range<Int>? = nil, firstLine: Int = 1) {
        self.source = source
        bytes = source.bytes[range ?? source.bytes.indices]
        linesBefore = firstLine - 1
        lineCursor = (1, bytes.startIndex)
    }

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: source.name, line: node.mark.line, column: node.mark.column)
    }

    mutating func readDocument(_ root: Node, into objects: inout [KubernetesObject], log: inout DiagnosticLog) {
        // `---` with nothing after it, or a comment-only document: nothing to read.
        if root.resolved == .null { return }
        guard root.mapping != nil else {
            log.error(
                .documentNotMapping,
                "a Kubernetes object must be a mapping, but this document is \(root.typeDescription)",
                at: location(root))
            return
        }
        let kind = root["kind"]?.scalar?.text ?? ""
        let apiVersion = root["apiVersion"]?.scalar?.text ?? ""
        if kind.isEmpty {
            log.warning(.objectMissingKind, "document has no `kind`; skipped", at: location(root))
            return
        }
        // `kind: List` (what `kubectl get -o yaml` prints) wraps objects in `items`.
        if kind == "List" || (kind.hasSuffix("List") && root["items"]?.sequence != nil) {
            for item in root["items"]?.sequence ?? [] {
                readDocument(item, into: &objects, log: &log)
            }
            return
        }
        let metadata = root["metadata"]
        let name = metadata?["name"]?.scalar?.text ?? ""
        let namespace = metadata?["namespace"]?.scalar?.text ?? defaultNamespace
        let object = KubernetesObject(
            apiVersion: apiVersion, kind: kind, name: name, namespace: namespace.isEmpty ? defaultNamespace : namespace,
            body: root, fields: root["spec"] ?? Node(.mapping([]), mark: root.mark), file: source.name,
            origin: .document)
        if name.isEmpty {
            if isAmbassadorResource(apiVersion: apiVersion) {
                log.error(.objectMissingName, "\(kind) has no metadata.name; skipped", at: location(root))
            }
            return
        }
        objects.append(object)
        if let annotation = metadata?["annotations"]?[ambassadorConfigAnnotation],
            kind == "Service" || kind == "Ingress"
        {
            readAnnotation(annotation, owner: object.reference, into: &objects, log: &log)
        }
    }

    /// The documents of a `getambassador.io/config` annotation, each an object of its own.
    mutating func readAnnotation(
        _ annotation: Node, owner: ObjectReference, into objects: inout [KubernetesObject], log: inout DiagnosticLog
    ) {
        guard let scalar = annotation.scalar, case .string(let text) = annotation.resolved ?? .null else {
            log.error(
                .annotationNotString,
                "the \(ambassadorConfigAnnotation) annotation must be a string holding YAML, but it is \(annotation.typeDescription)",
                at: location(annotation), object: owner)
            return
        }
        let placement = placementOfBlock(annotation, style: scalar.style)
        let stream: YAMLStream
        do {
            stream = try parseYAML(Array(text.utf8), placement: placement)
        } catch {
            let at = SourceLocation(file: source.name, line: error.mark.line, column: error.mark.column)
            let said = describedYAMLError(error, line: { line($0) })
            if said.code != .fieldsShareLine, text.containsBytes("{{") {
                // `{{ .Values.x }}` is a YAML flow mapping: the parse error alone would not say what went wrong.
                log.error(
                    .unrenderedTemplate,
                    "the \(ambassadorConfigAnnotation) annotation contains Helm template text (`{{ ... }}`): the manifest was not rendered (run `helm template` first); YAML says: \(error.message)",
                    at: at, object: owner)
            } else {
                log.error(
                    said.code == .fieldsShareLine ? .fieldsShareLine : .annotationSyntax,
                    "the \(ambassadorConfigAnnotation) annotation is not valid YAML: \(said.message)", at: at,
                    object: owner)
            }
            return
        }
        for warning in stream.warnings {
            log.warning(
                .yamlDuplicateKey, warning.message,
                at: SourceLocation(file: source.name, line: warning.mark.line, column: warning.mark.column),
                object: owner)
        }
        for document in stream.documents {
            let root = document.root
            if root.resolved == .null { continue }
            guard root.mapping != nil else {
                log.error(
                    .documentNotMapping,
                    "annotation document \(document.index) must be a mapping, but it is \(root.typeDescription)",
                    at: location(root), object: owner)
                continue
            }
            let kind = root["kind"]?.scalar?.text ?? ""
            let name = root["name"]?.scalar?.text ?? ""
            guard !kind.isEmpty else {
                log.error(
                    .objectMissingKind, "annotation document \(document.index) has no `kind`; skipped",
                    at: location(root), object: owner)
                continue
            }
            guard !name.isEmpty else {
                log.error(
                    .annotationMissingName, "annotation document \(document.index) (\(kind)) has no `name`; skipped",
                    at: location(root), object: owner)
                continue
            }
            if let nested = root["metadata"]?["annotations"]?[ambassadorConfigAnnotation] {
                // Emissary reads annotations of Services and Ingresses only: the document stands, its own is ignored.
                log.warning(
                    .annotationInAnnotation,
                    "an annotation document's own \(ambassadorConfigAnnotation) annotation is not read (only Services and Ingresses carry them); ignored",
                    at: location(nested), object: owner)
            }
            let namespace = root["namespace"]?.scalar?.text ?? owner.namespace
            let object = KubernetesObject(
                apiVersion: root["apiVersion"]?.scalar?.text ?? "", kind: kind, name: name,
                namespace: namespace.isEmpty ? owner.namespace : namespace,
                body: root, fields: root, file: source.name,
                origin: .annotation(owner: owner, index: document.index))
            objects.append(object)
        }
    }

    /// The file offset where 1-based line `number` of `bytes` starts (nil past the last line). Annotations come
    /// further down the file one after another, so a cursor moves forward from the last line asked for: all the
    /// annotations of a file cost one scan of it, and no line index of the whole file is kept.
    mutating func startOfLine(_ number: Int) -> Int? {
        if number < lineCursor.line { lineCursor = (1, bytes.startIndex) }
        let first = bytes.startIndex
        return bytes.withUnsafeBufferPointer { part -> Int? in
            while lineCursor.line < number {
                guard let newline = part.indexOfNewline(from: lineCursor.offset - first) else { return nil }
                lineCursor = (lineCursor.line + 1, first + newline + 1)
            }
            return lineCursor.offset
        }
    }

    /// The file's line index, built once (a file with many broken annotations must not be rescanned per error).
    mutating func lineIndex() -> [Int] {
        if let lineStarts { return lineStarts }
        let first = bytes.startIndex
        var starts = [first]
        bytes.withUnsafeBufferPointer { part in
            var offset = 0
            while let newline = part.indexOfNewline(from: offset) {
                offset = newline + 1
                starts.append(first + offset)
            }
        }
        lineStarts = starts
        return starts
    }

    /// The text of a 1-based line of the file ("" outside `bytes`).
    mutating func line(_ fileLine: Int) -> String {
        let number = fileLine - linesBefore
        let starts = lineIndex()
        guard number >= 1, number <= starts.count else { return "" }
        var end = starts[number - 1]
        while end < bytes.endIndex, bytes[end] != UInt8(ascii: "\n") { end += 1 }
        return String(decoding: bytes[starts[number - 1]..<end], as: UTF8.self)
    }

    /// Where the lines of an annotation's text sit in the file. A literal block (`|`) keeps its lines, so inner
    /// line L is L lines below the indicator and indented by the block's indentation; other styles fold or
    /// escape lines, so their contents point at the scalar itself.
    mutating func placementOfBlock(_ node: Node, style: ScalarStyle) -> MarkPlacement {
        guard style == .literal else { return .fixed(node.mark) }
        // Find the first non-blank line after the indicator: its indentation is the block's.
        var line = node.mark.line - linesBefore + 1  // 1-based in `bytes`: the line after the `|`
        while line >= 1, var offset = startOfLine(line) {
            var spaces = 0
            while offset < bytes.endIndex, bytes[offset] == UInt8(ascii: " ") {
                offset += 1
                spaces += 1
            }
            if offset < bytes.endIndex, bytes[offset] != UInt8(ascii: "\n"), bytes[offset] != UInt8(ascii: "\r") {
                return .shifted(lines: node.mark.line, columns: spaces)
            }
            line += 1
        }
        return .fixed(node.mark)
    }
}

/// The API groups whose objects Attaché reads or reports on.
func isAmbassadorResource(apiVersion: String) -> Bool {
    apiVersion.hasPrefix("getambassador.io/") || apiVersion.hasPrefix("x.getambassador.io/")
        || apiVersion.hasPrefix("ambassador/")
}

/// Recognises a line where two `key: value` fields were run together (`service: service-gray  weight: 20`), the
/// way a lost line break in a copied snippet looks, and says which field to move. Only asked about libyaml's
/// "mapping values are not allowed" error, which is what such a line produces.
func fieldsSharingLine(_ line: String) -> String? {
    let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
    guard words.count >= 3, let first = words.first, first.hasSuffix(":"), first.count > 1 else { return nil }
    guard
        let second = words.dropFirst(2).first(where: {
            $0.hasSuffix(":") && $0.count > 1
                && $0.dropLast().allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        })
    else { return nil }
    return
        "`\(first.dropLast())` and `\(second.dropLast())` seem to share one line (a lost line break?); put `\(second)` on a line of its own"
}

/// A YAML syntax error as diagnostics say it: with the likeliest cause when one is recognised (two fields run
/// together on one line, a tab, a pasted placeholder), and YAML's own words. `line(n)` is line n of the input.
func describedYAMLError(_ error: YAMLError, line: (Int) -> String) -> (code: DiagnosticCode, message: String) {
    if error.message.contains("mapping values are not allowed"), let hint = fieldsSharingLine(line(error.mark.line)) {
        return (.fieldsShareLine, "\(hint) (YAML says: \(error.message))")
    }
    if let hint = pastedYAMLHint(error.message, at: error.mark.line, line: line) {
        return (.yamlSyntax, "\(hint) (YAML says: \(error.message))")
    }
    return (.yamlSyntax, error.message)
}

/// A hint for a YAML syntax error of the kind text copied from a web page or documentation causes: a tab in the
/// indentation, a `...` placeholder (YAML reads it as the end of a document), or a line indented under one that
/// opens no block (a copy that added a leading space to every line but the first). nil when none applies.
/// `line(n)` is line n of the input, numbered as the error's position is.
func pastedYAMLHint(_ message: String, at errorLine: Int, line: (Int) -> String) -> String? {
    func indentation(_ text: String) -> Substring { text.prefix { $0 == " " || $0 == "\t" } }
    for number in max(1, errorLine - 1)...max(1, errorLine) where indentation(line(number)).contains("\t") {
        return "line \(number) is indented with a tab, and YAML indents with spaces only"
    }
    for number in (max(1, errorLine - 200)...max(1, errorLine)).reversed() {
        let text = line(number).trimmingCharacters(in: .whitespaces)
        if text == "---" { break }  // the start of this document: a `...` before it is someone else's
        if text == "..." || text == "…" {
            return
                "line \(number) is `\(text)`, which YAML reads as the end of a document: a placeholder copied from documentation? Remove it"
        }
    }
    guard message.contains("mapping values are not allowed"), errorLine > 1 else { return nil }
    var previous = errorLine - 1
    while previous > 1, line(previous).trimmingCharacters(in: .whitespaces).isEmpty { previous -= 1 }
    let above = line(previous)
    let opensBlock =
        above.trimmingCharacters(in: .whitespaces).hasSuffix(":")
        || above.trimmingCharacters(in: .whitespaces).hasPrefix("-")
    if !opensBlock, indentation(line(errorLine)).count > indentation(above).count {
        return
            "line \(errorLine) is indented more than line \(previous), which opens no block (leading spaces from a copy?); the keys of one mapping start in one column"
    }
    return nil
}
