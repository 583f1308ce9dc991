tradeforge_migrator::plan!("topic_config_retention_ms_soon");

fn main() {
    let _ = &PLAN;
}
