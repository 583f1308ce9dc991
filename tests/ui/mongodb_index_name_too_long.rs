tradeforge_migrator::plan!("mongodb_index_name_too_long");

fn main() {
    let _ = &PLAN;
}
