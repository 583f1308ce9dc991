tradeforge_migrator::plan!("topic_declared_twice");

fn main() {
    let _ = &PLAN;
}
