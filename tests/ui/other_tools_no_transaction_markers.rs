tradeforge_migrator::plan!("other_tools_no_transaction_markers");

fn main() {
    let _ = &PLAN;
}
