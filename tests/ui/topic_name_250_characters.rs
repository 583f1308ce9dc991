tradeforge_migrator::plan!("topic_name_250_characters");

fn main() {
    let _ = &PLAN;
}
