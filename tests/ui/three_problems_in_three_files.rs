tradeforge_migrator::plan!("three_problems_in_three_files");

fn main() {
    let _ = &PLAN;
}
