tradeforge_migrator::plan!("file_name_with_uppercase_extension");

fn main() {
    let _ = &PLAN;
}
