tradeforge_migrator::plan!("topic_unknown_key_partitons_with_defaults");

fn main() {
    let _ = &PLAN;
}
