tradeforge_migrator::plan!("mongodb_json_schema_unknown_keyword");

fn main() {
    let _ = &PLAN;
}
