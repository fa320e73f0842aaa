import Dispatch
import Foundation

/// How many threads the parallel stages use: the machine's active processors (2 on the CI machine), at least 1.
let parallelWidth = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// `items.map(transform)`, with the items spread over up to `parallelWidth` threads; results in input order.
///
/// Used where the work splits into independent pieces whose results are merged in a fixed order afterwards
/// (chunks of one file, batches of objects), so the output is the same whatever the thread timing.
func parallelMap<Item: Sendable, Result: Sendable>(_ items: [Item], _ transform: @Sendable (Item) -> Result) -> [Result]
{
    if items.count <= 1 || parallelWidth == 1 { return items.map(transform) }
    let slots = ResultSlots<Result>(count: items.count)
    DispatchQueue.concurrentPerform(iterations: items.count) { index in
        slots.store(transform(items[index]), at: index)
    }
    return slots.collect()
}

/// `(0..<count).map(transform)` in consecutive runs on all processors (runs of at least `minimumRun`), each result
/// moved straight into its place in the returned array.
///
/// For per-item results (a cluster, a name): no per-run arrays to join, so no result is copied, and none of the
/// memory a worker allocated is freed by the calling thread (a free into another thread's allocator arena takes
/// its lock; at 50,000 Mappings such joins cost more than the work).
func parallelMap<Result: Sendable>(count: Int, minimumRun: Int = 1024, _ transform: @Sendable (Int) -> Result)
    -> [Result]
{
    [Result](unsafeUninitializedCapacity: count) { buffer, initializedCount in
        let base = UncheckedPointer(buffer.baseAddress)
        // Each index is initialised by exactly one run; the array takes them all once every run has returned.
        inRuns(count: count, minimumRun: minimumRun) { run in
            for index in run { (base.pointer! + index).initialize(to: transform(index)) }
        }
        initializedCount = count
    }
}

/// `parallelMap(count:)` for results in two parts (a value and what working it out reported), each part moved
/// into its own array: taking the values out of an array of pairs afterwards copies every one.
func parallelUnzip<First: Sendable, Second: Sendable>(
    count: Int, minimumRun: Int = 1024, _ transform: @Sendable (Int) -> (First, Second)
) -> ([First], [Second]) {
    var seconds: [Second] = []
    let firsts = [First](unsafeUninitializedCapacity: count) { firstBuffer, firstCount in
        seconds = [Second](unsafeUninitializedCapacity: count) { secondBuffer, secondCount in
            let (first, second) = (
                UncheckedPointer(firstBuffer.baseAddress), UncheckedPointer(secondBuffer.baseAddress)
            )
            // Each index is initialised by exactly one run, in both arrays.
            inRuns(count: count, minimumRun: minimumRun) { run in
                for index in run {
                    let (a, b) = transform(index)
                    (first.pointer! + index).initialize(to: a)
                    (second.pointer! + index).initialize(to: b)
                }
            }
            secondCount = count
        }
        firstCount = count
    }
    return (firsts, seconds)
}

/// Calls `body` with consecutive runs of `0..<count`, one per processor and at least `minimumRun` long, side by
/// side; on the calling thread when there is only one run.
private func inRuns(count: Int, minimumRun: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let runLength = max(minimumRun, (count + parallelWidth - 1) / parallelWidth)
    guard count > runLength else {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: (count + runLength - 1) / runLength) { run in
        body(run * runLength..<min(count, (run + 1) * runLength))
    }
}

/// A pointer handed to the workers of `parallelMap(count:)`, which write disjoint elements through it.
private struct UncheckedPointer<Pointee>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Pointee>?  // nil for an empty array
    init(_ pointer: UnsafeMutablePointer<Pointee>?) { self.pointer = pointer }
}

/// Consecutive runs of `indices`, one per processor and at least `minimumSize` long, for `parallelMap`.
func batches(of indices: [Int], minimumSize: Int) -> [[Int]] {
    let size = max(minimumSize, (indices.count + parallelWidth - 1) / parallelWidth)
    return stride(from: 0, to: indices.count, by: size).map { Array(indices[$0..<min($0 + size, indices.count)]) }
}

/// Runs two independent pieces of work side by side and returns both results.
func inParallel<A: Sendable, B: Sendable>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
    let results = parallelMap([true, false]) { isFirst -> (A?, B?) in isFirst ? (first(), nil) : (nil, second()) }
    return (results[0].0!, results[1].1!)
}

/// One slot per result, each written by exactly one iteration of `concurrentPerform` and read only after it
/// returns: no two threads touch the same slot, so no lock is needed. Raw memory rather than an array property, so
/// that the concurrent writes are not concurrent accesses to one Swift variable.
private final class ResultSlots<Result>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<Result?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        _ = slots.deinitialize()
        slots.deallocate()
    }

    func store(_ result: Result, at index: Int) { slots[index] = result }

    func collect() -> [Result] { slots.map { $0! } }
}

/// Lets go of `value` on another thread: freeing a large graph of objects (a 10,000-route translation) takes time
/// that a command about to exit, or a sidecar about to wait for the next change, need not spend. Not for freeing
/// while the next stage runs: both threads then contend for the allocator.
func releaseInBackground<Value: Sendable>(_ value: consuming Value) {
    let box = ReleaseBox(value)
    DispatchQueue.global().async { box.value = nil }
}

/// Lets go of many values on all processors, a consecutive run of them per thread, and returns when all are freed.
/// Consecutive parsed objects were mostly allocated by one parse worker (one allocator arena per thread), so the
/// threads mostly free into different arenas and do not wait on each other's locks. Small arrays are simply dropped.
/// (In the sidecar the document cache still holds the objects, so this only drops references.)
func releaseInParallel<Element: Sendable>(_ elements: consuming [Element]) {
    guard parallelWidth > 1, elements.count >= 4096 else { return }
    let runs = batches(of: Array(elements.indices), minimumSize: 1024).map { batch in
        ReleaseBox(Array(elements[batch[0]...batch[batch.count - 1]]))
    }
    _ = consume elements  // each element is now held by its run alone
    _ = parallelMap(Array(runs.indices)) { runs[$0].value = nil }
}

/// Carries the last reference to a value to the releasing thread.
private final class ReleaseBox<Value: Sendable>: @unchecked Sendable {  // touched by one thread after hand-off
    var value: Value?
    init(_ value: consuming Value) { self.value = value }
}
