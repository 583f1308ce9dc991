tradeforge_migrator::plan!("indicator_parameter_name_not_snake_case");

fn main() {
    let _ = &PLAN;
}
