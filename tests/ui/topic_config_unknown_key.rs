tradeforge_migrator::plan!("topic_config_unknown_key");

fn main() {
    let _ = &PLAN;
}
