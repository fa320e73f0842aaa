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
    /// The hash worked out at construction; `numberByFirstOccurrence` probes by it directly.
    let storedHash: Int

    public init(_ key: Key) {
        self.key = key
        storedHash = key.hashValue
    }

    public static func == (a: Prehashed, b: Prehashed) -> Bool { a.storedHash == b.storedHash && a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(storedHash) }
}

/// Numbers the distinct keys 0, 1, 2, … in the order they first occur: `number[i]` is the number of `keys[i]`,
/// `first[n]` the position where key `n` first occurs.
///
/// What a `[Key: Int]` dictionary filled in one loop would give, but the table holds positions, not keys: keys are
/// compared where they lie and never copied. Each copy into a dictionary is a reference count taken on a string
/// that a parallel step made on another processor, and at 14,000 keys those cache misses were most of the pass.
func numberByFirstOccurrence<Key>(_ keys: [Prehashed<Key>]) -> (number: [Int], first: [Int]) {
    var capacity = 16
    while capacity < keys.count * 2 { capacity <<= 1 }
    let mask = capacity - 1
    var table = [Int](repeating: -1, count: capacity)  // position of a key's first occurrence, or -1
    var number = [Int](repeating: 0, count: keys.count)
    var first: [Int] = []
    keys.withUnsafeBufferPointer { keys in
        table.withUnsafeMutableBufferPointer { table in
            for position in keys.indices {
                // The stored hash is Hasher's output: its low bits are already well mixed.
                var slot = keys[position].storedHash & mask
                while true {
                    let occupant = table[slot]
                    if occupant < 0 {
                        table[slot] = position
                        number[position] = first.count
                        first.append(position)
                        break
                    }
                    if keys[occupant] == keys[position] {
                        number[position] = number[occupant]
                        break
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }
    return (number, first)
}
