tradeforge_migrator::plan!("irreversible_declared_in_the_upgrade");

fn main() {
    let _ = &PLAN;
}
