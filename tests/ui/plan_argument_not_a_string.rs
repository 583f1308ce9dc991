tradeforge_migrator::plan!(sources);

fn main() {
    let _ = &PLAN;
}
