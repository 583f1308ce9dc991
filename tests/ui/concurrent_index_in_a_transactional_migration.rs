tradeforge_migrator::plan!("concurrent_index_in_a_transactional_migration");

fn main() {
    let _ = &PLAN;
}
