tradeforge_migrator::plan!("mongodb_same_index_name_twice");

fn main() {
    let _ = &PLAN;
}
