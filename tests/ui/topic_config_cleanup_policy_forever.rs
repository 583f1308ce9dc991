tradeforge_migrator::plan!("topic_config_cleanup_policy_forever");

fn main() {
    let _ = &PLAN;
}
