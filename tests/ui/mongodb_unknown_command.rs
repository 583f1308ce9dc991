tradeforge_migrator::plan!("mongodb_unknown_command");

fn main() {
    let _ = &PLAN;
}
