tradeforge_migrator::plan!("data_migration_without_version");

fn main() {
    let _ = &PLAN;
}
