tradeforge_migrator::plan!("topic_partitions_zero");

fn main() {
    let _ = &PLAN;
}
