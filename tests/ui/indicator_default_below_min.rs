tradeforge_migrator::plan!("indicator_default_below_min");

fn main() {
    let _ = &PLAN;
}
