tradeforge_migrator::plan!("indicator_enum_without_values");

fn main() {
    let _ = &PLAN;
}
