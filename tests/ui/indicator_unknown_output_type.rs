tradeforge_migrator::plan!("indicator_unknown_output_type");

fn main() {
    let _ = &PLAN;
}
