tradeforge_migrator::plan!("indicator_without_outputs_key");

fn main() {
    let _ = &PLAN;
}
