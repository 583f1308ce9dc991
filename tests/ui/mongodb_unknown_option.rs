tradeforge_migrator::plan!("mongodb_unknown_option");

fn main() {
    let _ = &PLAN;
}
