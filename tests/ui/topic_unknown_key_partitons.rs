tradeforge_migrator::plan!("topic_unknown_key_partitons");

fn main() {
    let _ = &PLAN;
}
