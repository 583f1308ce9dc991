tradeforge_migrator::plan!("goose_markers_in_one_file");

fn main() {
    let _ = &PLAN;
}
