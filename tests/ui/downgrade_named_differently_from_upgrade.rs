tradeforge_migrator::plan!("downgrade_named_differently_from_upgrade");

fn main() {
    let _ = &PLAN;
}
