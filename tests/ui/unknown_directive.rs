tradeforge_migrator::plan!("unknown_directive");

fn main() {
    let _ = &PLAN;
}
