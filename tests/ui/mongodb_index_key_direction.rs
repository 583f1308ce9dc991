tradeforge_migrator::plan!("mongodb_index_key_direction");

fn main() {
    let _ = &PLAN;
}
