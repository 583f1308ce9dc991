tradeforge_migrator::plan!("topic_replication_factor_zero");

fn main() {
    let _ = &PLAN;
}
