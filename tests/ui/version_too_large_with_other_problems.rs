tradeforge_migrator::plan!("version_too_large_with_other_problems");

fn main() {
    let _ = &PLAN;
}
