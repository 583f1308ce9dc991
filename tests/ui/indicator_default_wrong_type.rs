tradeforge_migrator::plan!("indicator_default_wrong_type");

fn main() {
    let _ = &PLAN;
}
