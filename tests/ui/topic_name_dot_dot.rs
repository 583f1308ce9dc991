tradeforge_migrator::plan!("topic_name_dot_dot");

fn main() {
    let _ = &PLAN;
}
