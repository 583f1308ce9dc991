tradeforge_migrator::plan!("data_migration_not_async");

fn main() {
    let _ = &PLAN;
}
