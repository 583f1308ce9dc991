tradeforge_migrator::plan!("topic_dot_underscore_collision");

fn main() {
    let _ = &PLAN;
}
