tradeforge_migrator::plan!("indicator_duplicate_output");

fn main() {
    let _ = &PLAN;
}
