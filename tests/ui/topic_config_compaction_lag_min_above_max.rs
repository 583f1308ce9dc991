tradeforge_migrator::plan!("topic_config_compaction_lag_min_above_max");

fn main() {
    let _ = &PLAN;
}
