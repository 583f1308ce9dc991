tradeforge_migrator::plan!("clickhouse_ddl_without_on_cluster_in_a_cluster_project");

fn main() {
    let _ = &PLAN;
}
