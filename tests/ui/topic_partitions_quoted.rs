tradeforge_migrator::plan!("topic_partitions_quoted");

fn main() {
    let _ = &PLAN;
}
