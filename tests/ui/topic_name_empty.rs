tradeforge_migrator::plan!("topic_name_empty");

fn main() {
    let _ = &PLAN;
}
