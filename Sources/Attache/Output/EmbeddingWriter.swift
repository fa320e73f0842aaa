import Foundation

/// How much of a streamed file had been written after one of its chunks: bytes, and line feeds among them.
struct LineFeedMark: Sendable, Equatable {
    var offset: Int
    var lineFeeds: Int

    init(offset: Int, lineFeeds: Int) {
        self.offset = offset
        self.lineFeeds = lineFeeds
    }

    /// The mark after `chunk`, written after the one at `previous` (nil: the file's first chunk).
    init(after previous: LineFeedMark?, chunk: UnsafeBufferPointer<UInt8>) {
        let before = previous ?? LineFeedMark(offset: 0, lineFeeds: 0)
        self.init(
            offset: before.offset + chunk.count, lineFeeds: before.lineFeeds + chunk.lineFeeds(in: 0..<chunk.count))
    }
}

/// A file streamed to disk with a mark after each chunk: its path and its marks (the last one is its whole size).
/// Enough to embed it in another document in independent parts.
struct StreamedFile: Sendable {
    var path: String
    var marks: [LineFeedMark]
    var size: Int { marks.last?.offset ?? 0 }
}

/// Where a laid-out document leaves a file out: the place of the value, and the file that goes there.
struct EmbedPoint: Sendable, Equatable {
    var place: ValuePlace
    var path: String
}

/// Writes a laid-out document (`layout`) with the files it left out copied in, each line shifted to its
/// place's indentation and the file's final newline dropped: byte for byte what rendering the whole document in
/// one writer gives.
///
/// The work is cut into pieces (runs of the skeleton, and each embedded file between two of its marks, about
/// 256 KB apart) whose place in the output is known in advance from the marks' line-feed counts, so that
/// `parallelWidth` threads each write one contiguous share of the file at its own offset: otherwise embedding the
/// routes and clusters (most of the bootstrap's bytes) would be the one step of writing on a single processor.
enum EmbeddingWriter {
    /// A document written by `body` with some values left out: `body` calls `leaveOut(writer, path)` where the file
    /// at `path` (a rendered JSON value ending in a newline) goes. Returns the document's bytes with its final newline
    /// (the skeleton) and the places left out, for `write`.
    static func layout(
        _ body: (inout JSONWriter, _ leaveOut: (inout JSONWriter, String) -> Void) -> Void
    ) -> (skeleton: [UInt8], embeds: [EmbedPoint]) {
        var embeds: [EmbedPoint] = []
        let skeleton = JSONWriter.render(capacity: 1 << 14) { writer in
            body(&writer) { json, path in embeds.append(EmbedPoint(place: json.reserveValue(), path: path)) }
        }
        return (skeleton, embeds)
    }

    /// One piece of the output: a run of the skeleton, or a part of an embedded file.
    enum Piece {
        case skeleton(Range<Int>)
        /// Bytes `range` of `files[file]`, with its lines indented by `indent`.
        case embedded(file: Int, range: Range<Int>, indent: Int)
    }

    /// Writes `skeleton` with `files` put in at `embeds` to `directory/name`, atomically.
    static func write(
        skeleton: [UInt8], embeds: [EmbedPoint], files: [String: StreamedFile], to name: String, in directory: String,
        width: Int = parallelWidth
    ) throws(OutputError) {
        var streamed: [StreamedFile] = []
        var pieces: [Piece] = []
        var sizes: [Int] = []
        var copied = 0
        for embed in embeds {
            guard let file = files[embed.path] else {
                throw OutputError(path: embed.path, reason: "was not written by this run and cannot be embedded")
            }
            pieces.append(.skeleton(copied..<embed.place.offset))
            sizes.append(embed.place.offset - copied)
            copied = embed.place.offset
            var before = LineFeedMark(offset: 0, lineFeeds: 0)
            for mark in file.marks where mark.offset > before.offset {
                let range = before.offset..<mark.offset
                pieces.append(.embedded(file: streamed.count, range: range, indent: embed.place.indent))
                sizes.append(
                    embeddedSize(
                        range, lineFeeds: mark.lineFeeds - before.lineFeeds, of: file, indent: embed.place.indent))
                before = mark
            }
            streamed.append(file)
        }
        pieces.append(.skeleton(copied..<skeleton.count))
        sizes.append(skeleton.count - copied)

        // Piece p starts at starts[p]; share s is the pieces that start in its s-th of the output.
        var starts: [Int] = []
        starts.reserveCapacity(sizes.count)
        var total = 0
        for size in sizes {
            starts.append(total)
            total += size
        }
        let shares = max(1, min(width, pieces.count))
        let firstPiece = (0...shares).map { share -> Int in
            share == shares ? pieces.count : starts.firstIndex { $0 >= total * share / shares } ?? pieces.count
        }
        let (files, plan, planned, offsets) = (streamed, pieces, sizes, starts)
        try AtomicFile.write(
            to: name, in: directory,
            descriptor: { fd in
                let failures = parallelMap(Array(0..<shares)) { share -> String? in
                    let run = firstPiece[share]..<firstPiece[share + 1]
                    guard !run.isEmpty else { return nil }
                    do {
                        try writePieces(
                            plan[run], sizes: planned[run], at: offsets[run.lowerBound], skeleton: skeleton,
                            files: files, to: fd)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
                if let failure = failures.compactMap({ $0 }).first { throw AtomicFile.WriteFailed(reason: failure) }
            })
    }

    /// The size of bytes `range` of `file` once embedded: each line feed becomes a line feed and `indent` spaces,
    /// except the file's last byte, a line feed that is dropped.
    static func embeddedSize(_ range: Range<Int>, lineFeeds: Int, of file: StreamedFile, indent: Int) -> Int {
        let dropsFinal = range.upperBound == file.size
        return range.count + lineFeeds * indent - (dropsFinal ? 1 + indent : 0)
    }

    /// Writes `pieces`, consecutive in the output, starting at `offset`; reads each embedded part with `pread`.
    /// Each piece must come out at its planned size (`sizes`): a file changed since it was written would otherwise
    /// leave a gap or overwrite a neighbour's share.
    private static func writePieces(
        _ pieces: ArraySlice<Piece>, sizes: ArraySlice<Int>, at offset: Int, skeleton: [UInt8], files: [StreamedFile],
        to fd: Int32
    ) throws {
        var output = ByteBuffer(capacity: 1 << 19)  // a block and its added indentation
        var end = offset
        var descriptors: [Int: Int32] = [:]
        defer { for descriptor in descriptors.values { close(descriptor) } }
        let blockSize = 1 << 18
        var input = [UInt8](repeating: 0, count: blockSize)
        func flush() throws {
            try AtomicFile.writeAll(output.contents, to: fd, at: end)
            end += output.count
            output.removeAll()
        }
        for (piece, size) in zip(pieces, sizes) {
            let pieceStart = end + output.count
            switch piece {
            case .skeleton(let range):
                skeleton.withUnsafeBufferPointer { output.append(contentsOf: UnsafeBufferPointer(rebasing: $0[range])) }
            case .embedded(let index, let range, let indent):
                let file = files[index]
                let descriptor: Int32
                if let open = descriptors[index] {
                    descriptor = open
                } else {
                    descriptor = Glibc.open(file.path, O_RDONLY | O_CLOEXEC)
                    guard descriptor >= 0 else { throw AtomicFile.WriteFailed(reason: "cannot read back \(file.path)") }
                    descriptors[index] = descriptor
                }
                // In blocks: a piece can be a megabyte (a side-by-side part of the routes), and each share's
                // buffers should stay small next to the output.
                var blockStart = range.lowerBound
                while blockStart < range.upperBound {
                    let block = blockStart..<min(range.upperBound, blockStart + blockSize)
                    try input.withUnsafeMutableBytes { buffer in
                        var done = 0
                        while done < block.count {
                            let count = pread(
                                descriptor, buffer.baseAddress! + done, block.count - done,
                                off_t(block.lowerBound + done))
                            if count < 0, errno == EINTR { continue }
                            guard count > 0 else {
                                throw AtomicFile.WriteFailed(reason: "cannot read back \(file.path)")
                            }
                            done += count
                        }
                    }
                    input.withUnsafeBufferPointer { bytes in
                        appendShifted(
                            UnsafeBufferPointer(rebasing: bytes[..<block.count]), indent: indent,
                            dropsFinalLineFeed: block.upperBound == file.size, to: &output)
                    }
                    if output.count >= blockSize { try flush() }
                    blockStart = block.upperBound
                }
            }
            guard end + output.count - pieceStart == size else {
                throw AtomicFile.WriteFailed(reason: "an embedded file changed while it was being copied")
            }
            if output.count >= blockSize { try flush() }
        }
        try flush()
    }

    /// `bytes` with each line feed followed by `indent` spaces; the very last byte, a line feed, left out when
    /// `dropsFinalLineFeed` (the embedded value's own final newline: the document goes on after it).
    static func appendShifted(
        _ bytes: UnsafeBufferPointer<UInt8>, indent: Int, dropsFinalLineFeed: Bool, to output: inout ByteBuffer
    ) {
        let count = dropsFinalLineFeed && bytes.last == UInt8(ascii: "\n") ? bytes.count - 1 : bytes.count
        let text = UnsafeBufferPointer(rebasing: bytes[..<count])
        var start = 0
        while start < count {
            guard let newline = text.indexOfNewline(from: start) else {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: text[start...]))
                return
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<newline]))
            output.appendLineBreak(indent: indent)
            start = newline + 1
        }
    }
}
