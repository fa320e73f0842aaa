/// The route-table order of groups with these keys, as positions: highest key first; equal keys keep the
/// **reverse** of the order in which the groups were formed (their positions here). This mirrors Emissary's
/// `reversed(sorted(groups, key=route_weight))`: a stable ascending sort, then reversed.
///
/// Positions, not the groups themselves, so that the caller moves each group once into its place. The plain
/// `compare` is used: a faster pre-comparison was measured to save too little to be worth keeping in step with it
/// (docs/PERFORMANCE.md).
func routeTableOrder(_ orders: [RouteOrderKey]) -> [Int] {
    let ascending = orders.indices.sorted { a, b in
        let order = orders[a].compare(to: orders[b])
        return order != 0 ? order < 0 : a < b
    }
    return ascending.reversed()
}
