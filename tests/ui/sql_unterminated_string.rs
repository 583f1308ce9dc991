tradeforge_migrator::plan!("sql_unterminated_string");

fn main() {
    let _ = &PLAN;
}
