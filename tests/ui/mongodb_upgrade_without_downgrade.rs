tradeforge_migrator::plan!("mongodb_upgrade_without_downgrade");

fn main() {
    let _ = &PLAN;
}
