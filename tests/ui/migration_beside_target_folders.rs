tradeforge_migrator::plan!("migration_beside_target_folders");

fn main() {
    let _ = &PLAN;
}
