tradeforge_migrator::plan!("indicator_without_outputs");

fn main() {
    let _ = &PLAN;
}
