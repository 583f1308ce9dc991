tradeforge_migrator::plan!("downgrade_without_upgrade");

fn main() {
    let _ = &PLAN;
}
