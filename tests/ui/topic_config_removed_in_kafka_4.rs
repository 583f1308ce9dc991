tradeforge_migrator::plan!("topic_config_removed_in_kafka_4");

fn main() {
    let _ = &PLAN;
}
