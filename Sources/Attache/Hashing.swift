// Stable hashes: the same bytes give the same hash in every run and on every machine. Swift's `Hasher` is seeded
// per process, so it can name nothing that is written down or compared across runs.

/// FNV-1a, 32 bits, as 8 hex digits. Swift's `Hasher` is seeded per process and would rename clusters every run.
func stableHash(_ text: String) -> String {
    stableHash(text.utf8)
}

func stableHash<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    var hash: UInt32 = 0x811c_9dc5
    for byte in bytes {
        hash ^= UInt32(byte)
        hash = hash &* 0x0100_0193
    }
    let hex = String(hash, radix: 16)
    return String(repeating: "0", count: 8 - hex.count) + hex
}

/// FNV-1a, 64 bits: remembers what a file holds without keeping its bytes.
func contentHash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}

/// A dictionary key whose hash is worked out once, where there is parallel work to do it in (decoding a Mapping,
/// finding its upstream), so that the serial passes that index thousands of keys hash an integer, not strings.
/// Within one process only: `Hasher` is seeded per process.
public struct Prehashed<Key: Hashable & Sendable>: Hashable, Sendable {
    public let key: Key
    private let hash: Int

    public init(_ key: Key) {
        self.key = key
        hash = key.hashValue
    }

    public static func == (a: Prehashed, b: Prehashed) -> Bool { a.hash == b.hash && a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
