tradeforge_migrator::plan!("indicator_unknown_category");

fn main() {
    let _ = &PLAN;
}
