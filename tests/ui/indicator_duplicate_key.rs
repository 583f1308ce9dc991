tradeforge_migrator::plan!("indicator_duplicate_key");

fn main() {
    let _ = &PLAN;
}
