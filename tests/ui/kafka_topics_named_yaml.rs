tradeforge_migrator::plan!("kafka_topics_named_yaml");
fn main() { let _ = &PLAN; }
