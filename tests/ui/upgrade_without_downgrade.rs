tradeforge_migrator::plan!("upgrade_without_downgrade");

fn main() {
    let _ = &PLAN;
}
