tradeforge_migrator::plan!("indicator_unknown_key_defualt");

fn main() {
    let _ = &PLAN;
}
