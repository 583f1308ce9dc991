tradeforge_migrator::plan!("indicator_enum_duplicate_value");

fn main() {
    let _ = &PLAN;
}
