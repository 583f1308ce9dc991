tradeforge_migrator::plan!("data_migration_shares_a_version_with_sql");

fn main() {
    let _ = &PLAN;
}
