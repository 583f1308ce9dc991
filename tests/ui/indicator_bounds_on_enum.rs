tradeforge_migrator::plan!("indicator_bounds_on_enum");

fn main() {
    let _ = &PLAN;
}
