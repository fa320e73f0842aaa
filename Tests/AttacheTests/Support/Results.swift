import Foundation

/// Results filled in from concurrent work, one slot per index.
final class Results<Value: Sendable>: @unchecked Sendable {
    private var slots: [Value?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    func get(_ index: Int) -> Value {
        lock.lock()
        defer { lock.unlock() }
        return slots[index]!
    }
}
