tradeforge_migrator::plan!("indicator_name_64_characters");

fn main() {
    let _ = &PLAN;
}
