tradeforge_migrator::plan!("migration_in_subfolder");

fn main() {
    let _ = &PLAN;
}
