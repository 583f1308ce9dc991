tradeforge_migrator::plan!("file_name_without_description");

fn main() {
    let _ = &PLAN;
}
