tradeforge_migrator::plan!("kafka_topics_unknown_top_level_key");

fn main() {
    let _ = &PLAN;
}
