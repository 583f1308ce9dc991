tradeforge_migrator::plan!("indicator_default_not_an_enum_value");

fn main() {
    let _ = &PLAN;
}
