tradeforge_migrator::plan!("duplicate_version_v9_and_v09");

fn main() {
    let _ = &PLAN;
}
