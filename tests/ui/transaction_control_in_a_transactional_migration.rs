tradeforge_migrator::plan!("transaction_control_in_a_transactional_migration");

fn main() {
    let _ = &PLAN;
}
