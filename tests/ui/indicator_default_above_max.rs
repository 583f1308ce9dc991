tradeforge_migrator::plan!("indicator_default_above_max");

fn main() {
    let _ = &PLAN;
}
