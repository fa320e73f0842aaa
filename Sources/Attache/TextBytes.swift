import Foundation

// Byte-level text helpers for the hot paths. With Foundation imported, `String.contains(String)` resolves to
// Foundation's `range(of:)`, which costs thousands of instructions per call, and comparing `utf8` views element by
// element is several times slower than `memcmp` (docs/PERFORMANCE.md). Envoy and Python compare bytes and code
// points, so bytes are also the right semantics here.

extension StringProtocol {
    /// True when `needle`'s UTF-8 bytes occur in this string's UTF-8 bytes.
    func containsBytes(_ needle: String) -> Bool {
        // No copy of the needle: this runs for several fields of every Mapping.
        guard let first = needle.utf8.first else { return true }
        let haystack = utf8
        var index = haystack.startIndex
        while let found = haystack[index...].firstIndex(of: first) {
            if haystack[found...].starts(with: needle.utf8) { return true }
            index = haystack.index(after: found)
        }
        return false
    }
}

/// The first 16 UTF-8 bytes of a text as two big-endian integers, zero-padded: when two heads differ they order
/// as the texts do (`codePointCompare`), so a sort compares two integers and reads the texts only on a tie.
/// (A shorter text pads with 0 and sorts first, as it should; a real NUL byte makes a tie, never a wrong answer.)
struct TextHead: Comparable {
    var high: UInt64
    var low: UInt64

    init(_ text: String) {
        var high: UInt64 = 0, low: UInt64 = 0, count = 0
        for byte in text.utf8.prefix(16) {
            if count < 8 {
                high |= UInt64(byte) << (56 - 8 * count)
            } else {
                low |= UInt64(byte) << (56 - 8 * (count - 8))
            }
            count += 1
        }
        (self.high, self.low) = (high, low)
    }

    static func < (a: TextHead, b: TextHead) -> Bool { (a.high, a.low) < (b.high, b.low) }
}

/// Positions of `texts` in code-point order (`codePointCompare`); equal texts in the order of `ranks` when given,
/// else in their own order.
func codePointOrder(_ texts: [String], ranks: [Int]? = nil) -> [Int] {
    let heads = texts.map(TextHead.init)
    let ranks = ranks ?? Array(texts.indices)
    return texts.withUnsafeBufferPointer { texts in
        texts.indices.sorted { a, b in
            if heads[a] != heads[b] { return heads[a] < heads[b] }
            let order = codePointCompare(texts[a], texts[b])
            if order != 0 { return order < 0 }
            return ranks[a] != ranks[b] ? ranks[a] < ranks[b] : a < b
        }
    }
}

/// Python's string order: by code point, which is UTF-8 byte order (`memcmp`, then the shorter first).
func codePointLess(_ a: String, _ b: String) -> Bool {
    codePointCompare(a, b) < 0
}

/// Three-way comparison in UTF-8 byte order: negative, zero or positive.
func codePointCompare(_ a: String, _ b: String) -> Int {
    let result = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y -> Int in
            let common = min(x.count, y.count)
            if common > 0, let p = x.baseAddress, let q = y.baseAddress {
                let order = memcmp(p, q, common)
                if order != 0 { return Int(order) }
            }
            return x.count - y.count
        }
    }
    if let result, let result { return result }
    // Bridged strings without contiguous UTF-8 (not produced by our own reader): the slow path.
    if a.utf8.elementsEqual(b.utf8) { return 0 }
    return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The index of the first line feed at or after `start`, or nil. `memchr`, not a Swift loop: callers run it over
    /// every byte of large inputs and outputs (document cutting, the line index, embedding files in the bootstrap).
    func indexOfNewline(from start: Int) -> Int? {
        guard let base = baseAddress, start < count,
            let found = memchr(base + start, Int32(UInt8(ascii: "\n")), count - start)
        else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// The number of line feeds in `range` (line numbers of parse chunks, marks in streamed output), eight bytes at
    /// a time: each word marks its line feeds with a 1 in their byte, added up in byte-wide lanes that are summed
    /// every 255 words. (A plain loop over the bytes widens every byte's count to 64 bits; this runs before the
    /// parse can start.)
    func lineFeeds(in range: Range<Int>) -> Int {
        guard let base = baseAddress, !range.isEmpty else { return 0 }
        let raw = UnsafeRawPointer(base + range.lowerBound)
        let words = range.count / 8
        let feeds: UInt64 = 0x0a0a_0a0a_0a0a_0a0a, low7: UInt64 = 0x7f7f_7f7f_7f7f_7f7f,
            ones: UInt64 = 0x0101_0101_0101_0101
        let evenBytes: UInt64 = 0x00ff_00ff_00ff_00ff
        var total = 0
        var word = 0
        while word < words {
            var lanes: UInt64 = 0
            let end = Swift.min(words, word + 255)
            while word < end {
                let x = raw.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self) ^ feeds  // line feeds are now 0
                // High bit of each byte set exactly where the byte is 0 (no borrow between bytes: the 7-bit add
                // cannot carry out of a byte).
                let zero = ~(((x & low7) &+ low7) | x | low7)
                lanes &+= (zero >> 7) & ones
                word += 1
            }
            let pairs = (lanes & evenBytes) &+ ((lanes >> 8) & evenBytes)  // four 16-bit lanes, each at most 510
            total += Int(truncatingIfNeeded: (pairs &* 0x0001_0001_0001_0001) >> 48)
        }
        for index in (range.lowerBound + words * 8)..<range.upperBound where self[index] == UInt8(ascii: "\n") {
            total += 1
        }
        return total
    }
}
