tradeforge_migrator::plan!("kafka_topics_duplicate_key");

fn main() {
    let _ = &PLAN;
}
