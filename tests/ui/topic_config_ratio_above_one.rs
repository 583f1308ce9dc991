tradeforge_migrator::plan!("topic_config_ratio_above_one");

fn main() {
    let _ = &PLAN;
}
