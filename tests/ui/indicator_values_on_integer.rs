tradeforge_migrator::plan!("indicator_values_on_integer");

fn main() {
    let _ = &PLAN;
}
