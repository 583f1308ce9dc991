tradeforge_migrator::plan!("indicator_declared_twice_across_files");

fn main() {
    let _ = &PLAN;
}
