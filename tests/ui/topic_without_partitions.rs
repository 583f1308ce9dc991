tradeforge_migrator::plan!("topic_without_partitions");

fn main() {
    let _ = &PLAN;
}
