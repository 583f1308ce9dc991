tradeforge_migrator::plan!("indicator_duplicate_parameter");

fn main() {
    let _ = &PLAN;
}
