tradeforge_migrator::plan!("file_name_with_double_underscore");

fn main() {
    let _ = &PLAN;
}
