tradeforge_migrator::plan!("topic_constant_collision");

fn main() {
    let _ = &PLAN;
}
