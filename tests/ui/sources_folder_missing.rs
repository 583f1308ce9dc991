// There is no folder `tests/ui/sources_folder_missing_typo`: a mistyped path must not compile
// to an empty plan.
tradeforge_migrator::plan!("sources_folder_missing_typo");

fn main() {
    let _ = &PLAN;
}
