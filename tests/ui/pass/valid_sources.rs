// A small valid tree compiles into a plan in source order, with a constant per live topic and
// per indicator.
tradeforge_migrator::plan!("valid_sources");

fn main() {
    assert_eq!(topics::MARKET_TICKS, "market.ticks");
    assert_eq!(topics::STRATEGY_SIGNALS, "strategy.signals");
    assert_eq!(indicators::RSI, "rsi");
    assert_eq!(indicators::SMA, "sma");

    let versions: Vec<u64> = PLAN.postgres.iter().map(|migration| migration.version).collect();
    assert_eq!(versions, [1, 2]);
    assert_eq!(PLAN.postgres[0].upgrade.path, "migrations/postgres/upgrade/V0001-create_users.sql");
    assert_eq!(PLAN.postgres[0].upgrade.statements.len(), 2);
    assert!(PLAN.postgres[0].upgrade.transactional);
    assert!(!PLAN.postgres[1].upgrade.transactional);
    assert_eq!(PLAN.clickhouse.len(), 1);

    let topic_names: Vec<&str> = PLAN.topics.iter().map(|topic| topic.name).collect();
    assert_eq!(topic_names, ["market.ticks", "strategy.signals", "old.topic"]);
    let ticks = &PLAN.topics[0];
    assert_eq!((ticks.partitions, ticks.replication_factor), (6, 1));
    assert_eq!(
        ticks.config,
        [("cleanup.policy", "compact,delete"), ("retention.bytes", "1073741824"), ("retention.ms", "604800000")]
    );
    assert!(PLAN.topics[2].deleted);

    let indicator_names: Vec<&str> = PLAN.indicators.iter().map(|indicator| indicator.name.as_str()).collect();
    assert_eq!(indicator_names, ["rsi", "sma"]);
    assert!(PLAN.fingerprint.starts_with("sha256:"));
}
