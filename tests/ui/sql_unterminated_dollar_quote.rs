tradeforge_migrator::plan!("sql_unterminated_dollar_quote");

fn main() {
    let _ = &PLAN;
}
