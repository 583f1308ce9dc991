tradeforge_migrator::plan!("mongodb_unique_with_a_wrong_partial_filter");

fn main() {
    let _ = &PLAN;
}
