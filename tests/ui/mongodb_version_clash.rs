tradeforge_migrator::plan!("mongodb_version_clash");

fn main() {
    let _ = &PLAN;
}
