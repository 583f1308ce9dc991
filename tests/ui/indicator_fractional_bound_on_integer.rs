tradeforge_migrator::plan!("indicator_fractional_bound_on_integer");

fn main() {
    let _ = &PLAN;
}
