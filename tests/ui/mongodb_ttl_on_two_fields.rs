tradeforge_migrator::plan!("mongodb_ttl_on_two_fields");

fn main() {
    let _ = &PLAN;
}
