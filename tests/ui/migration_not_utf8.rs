tradeforge_migrator::plan!("migration_not_utf8");

fn main() {
    let _ = &PLAN;
}
