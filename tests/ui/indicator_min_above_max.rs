tradeforge_migrator::plan!("indicator_min_above_max");

fn main() {
    let _ = &PLAN;
}
