tradeforge_migrator::plan!("indicator_file_with_uppercase_extension");
fn main() { let _ = &PLAN; }
