tradeforge_migrator::plan!("version_zero");

fn main() {
    let _ = &PLAN;
}
