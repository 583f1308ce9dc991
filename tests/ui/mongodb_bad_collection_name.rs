tradeforge_migrator::plan!("mongodb_bad_collection_name");

fn main() {
    let _ = &PLAN;
}
