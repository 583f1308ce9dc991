tradeforge_migrator::plan!("misspelt_target_folder");

fn main() {
    let _ = &PLAN;
}
