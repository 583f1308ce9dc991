tradeforge_migrator::plan!("data_migration_without_downgrade");

fn main() {
    let _ = &PLAN;
}
