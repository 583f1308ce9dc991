tradeforge_migrator::plan!("golang_migrate_file_names");

fn main() {
    let _ = &PLAN;
}
