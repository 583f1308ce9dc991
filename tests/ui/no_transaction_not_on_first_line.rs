tradeforge_migrator::plan!("no_transaction_not_on_first_line");

fn main() {
    let _ = &PLAN;
}
