tradeforge_migrator::plan!("mongodb_json_schema_required_not_declared");

fn main() {
    let _ = &PLAN;
}
