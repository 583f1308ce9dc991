tradeforge_migrator::plan!("file_name_without_v_prefix");

fn main() {
    let _ = &PLAN;
}
