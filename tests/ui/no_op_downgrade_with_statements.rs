tradeforge_migrator::plan!("no_op_downgrade_with_statements");

fn main() {
    let _ = &PLAN;
}
