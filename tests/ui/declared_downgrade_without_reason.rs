tradeforge_migrator::plan!("declared_downgrade_without_reason");

fn main() {
    let _ = &PLAN;
}
