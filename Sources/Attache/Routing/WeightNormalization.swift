/// The outcome of normalising one group's weights.
struct NormalizedWeights: Equatable {
    /// Indices into the group's Mappings, in route order: weighted first, then unweighted, each in processing order.
    var order: [Int]
    /// Cumulative thresholds, parallel to `order`; the last is 100 unless every Mapping has a weight.
    var cumulative: [Int]
}

/// Emissary's `normalize_weights_in_mappings`: a group of one takes 100%; weighted Mappings come first and add
/// their weights; the remainder is split among unweighted ones, each adding `round(remainder / n)` (half to even)
/// and the last forced to a cumulative 100. When every Mapping is weighted and the sum is under 100, the rest of
/// the traffic falls through to the next matching route.
///
/// `weights` must already be checked: each 0...100 and the weighted sum at most 100.
func normalizedWeights(_ weights: [Int?]) -> NormalizedWeights {
    if weights.count == 1 { return NormalizedWeights(order: [0], cumulative: [100]) }
    var order: [Int] = []
    var cumulative: [Int] = []
    var current = 0
    for (index, weight) in weights.enumerated() {
        guard let weight else { continue }
        current += weight
        order.append(index)
        cumulative.append(current)
    }
    let unweighted = weights.indices.filter { weights[$0] == nil }
    if !unweighted.isEmpty {
        let each = Int((Double(100 - current) / Double(unweighted.count)).rounded(.toNearestOrEven))
        for (position, index) in unweighted.enumerated() {
            current = position == unweighted.count - 1 ? 100 : current + each
            order.append(index)
            cumulative.append(current)
        }
    }
    return NormalizedWeights(order: order, cumulative: cumulative)
}
