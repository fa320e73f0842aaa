/// Positions partitioned into groups and stored flat: one array of members and one of where each group starts, so
/// that a group is read in place (an array per group would be an allocation and a reference count each, at 14,000
/// groups). Group `g` is `members[starts[g]..<starts[g + 1]]`.
struct GroupedPositions: Sendable {
    private(set) var members: [Int] = []
    private(set) var starts: [Int] = [0]

    var count: Int { starts.count - 1 }

    subscript(group: Int) -> ArraySlice<Int> { members[starts[group]..<starts[group + 1]] }

    init(capacity: Int = 0) { members.reserveCapacity(capacity) }

    /// Positions `0..<numbers.count` grouped by their number (each in `0..<groupCount`), in position order within
    /// a group: a counting sort.
    init(numbers: [Int], groupCount: Int) {
        var starts = [Int](repeating: 0, count: groupCount + 1)
        for n in numbers { starts[n + 1] += 1 }
        for n in 0..<groupCount { starts[n + 1] += starts[n] }
        var next = starts
        var members = [Int](repeating: 0, count: numbers.count)
        for (position, n) in numbers.enumerated() {
            members[next[n]] = position
            next[n] += 1
        }
        self.members = members
        self.starts = starts
    }

    mutating func append(group: some Collection<Int>) {
        members.append(contentsOf: group)
        starts.append(members.count)
    }
}
