tradeforge_migrator::plan!("kafka_topics_yaml_syntax_error");

fn main() {
    let _ = &PLAN;
}
