import Foundation
import XCTest

/// A seeded random number generator (SplitMix64): the same seed gives the same inputs on every machine, so a
/// failure reported with its seed can be replayed.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &self) < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

extension XCTestCase {
    /// The generator of a randomised test: seeded from `ATTACHE_TEST_SEED` when set, else with a new seed each run
    /// (so runs explore), and the seed printed with how to rerun it when the test fails.
    func seededRandom() -> SeededRandom {
        let environment = ProcessInfo.processInfo.environment["ATTACHE_TEST_SEED"]
        let seed = environment.flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let name = self.name
        addTeardownBlock { [weak self] in
            // `hasSucceeded` is still false during teardown (the run has not stopped yet): count failures instead.
            guard let run = self?.testRun, run.totalFailureCount > 0 else { return }
            print("\(name) failed with random seed \(seed): rerun with ATTACHE_TEST_SEED=\(seed)")
        }
        return SeededRandom(seed: seed)
    }
}
