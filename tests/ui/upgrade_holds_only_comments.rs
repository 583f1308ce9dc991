tradeforge_migrator::plan!("upgrade_holds_only_comments");

fn main() {
    let _ = &PLAN;
}
