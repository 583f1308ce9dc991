tradeforge_migrator::plan!("dbmate_sections_in_one_file");

fn main() {
    let _ = &PLAN;
}
