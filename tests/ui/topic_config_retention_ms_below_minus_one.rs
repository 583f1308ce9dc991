tradeforge_migrator::plan!("topic_config_retention_ms_below_minus_one");

fn main() {
    let _ = &PLAN;
}
