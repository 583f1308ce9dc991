tradeforge_migrator::plan!("mongodb_json_schema_unknown_bson_type");

fn main() {
    let _ = &PLAN;
}
