tradeforge_migrator::plan!("indicator_json_syntax_error");

fn main() {
    let _ = &PLAN;
}
