tradeforge_migrator::plan!("indicator_unknown_parameter_type");

fn main() {
    let _ = &PLAN;
}
