tradeforge_migrator::plan!("sql_unterminated_block_comment");

fn main() {
    let _ = &PLAN;
}
