tradeforge_migrator::plan!("indicator_file_not_a_list");

fn main() {
    let _ = &PLAN;
}
