tradeforge_migrator::plan!("kafka_topics_without_topics");

fn main() {
    let _ = &PLAN;
}
