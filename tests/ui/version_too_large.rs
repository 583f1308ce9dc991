tradeforge_migrator::plan!("version_too_large");

fn main() {
    let _ = &PLAN;
}
