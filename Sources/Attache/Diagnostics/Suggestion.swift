/// The name in `known` closest to `name` when it is at most `maximumDistance` edits away (the first such in `known`'s
/// order on a tie): the "did you mean" of unknown commands, options and fields. Nil for a name over 40 bytes: edit
/// distance is quadratic in the length, a typo is short, and a hostile key need not be.
func closestName(to name: String, among known: [String], maximumDistance: Int) -> String? {
    guard name.utf8.count <= 40 else { return nil }
    var best: (name: String, distance: Int)?
    for candidate in known {
        let distance = editDistance(candidate, name)
        if distance <= maximumDistance, distance < best?.distance ?? Int.max { best = (candidate, distance) }
    }
    return best?.name
}

/// Levenshtein distance, for suggestions only.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
