tradeforge_migrator::plan!("downgrade_holds_only_comments");

fn main() {
    let _ = &PLAN;
}
