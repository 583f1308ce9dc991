tradeforge_migrator::plan!("indicator_name_not_snake_case");

fn main() {
    let _ = &PLAN;
}
