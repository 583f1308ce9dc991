tradeforge_migrator::plan!("file_name_with_backup_extension");

fn main() {
    let _ = &PLAN;
}
