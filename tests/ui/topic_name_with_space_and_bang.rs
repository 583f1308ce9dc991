tradeforge_migrator::plan!("topic_name_with_space_and_bang");

fn main() {
    let _ = &PLAN;
}
