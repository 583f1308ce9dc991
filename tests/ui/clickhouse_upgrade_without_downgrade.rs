tradeforge_migrator::plan!("clickhouse_upgrade_without_downgrade");

fn main() {
    let _ = &PLAN;
}
