tradeforge_migrator::plan!("topic_min_insync_replicas_above_replication_factor");

fn main() {
    let _ = &PLAN;
}
