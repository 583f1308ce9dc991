//! Plans of a few migrations of one database, for the tests that drive a target directly.

use tradeforge_migrator::plan::{Catalogue, Migration, Plan, SqlTarget};

/// A plan holding only `migrations`, for `target`; nothing else (no topics, no indicators).
pub fn plan_of(target: SqlTarget, migrations: &'static [Migration]) -> Plan {
    let mut plan = Plan {
        fingerprint: "sha256:test",
        postgres: &[],
        clickhouse: &[],
        mongodb: &[],
        topics: &[],
        indicators: Catalogue::default(),
    };
    match target {
        SqlTarget::Postgres => plan.postgres = migrations,
        SqlTarget::ClickHouse => plan.clickhouse = migrations,
        SqlTarget::MongoDb => plan.mongodb = migrations,
    }
    plan
}

/// `migrations` made `'static`, as a plan holds them (a test leaks a few per run).
pub fn leak(migrations: Vec<Migration>) -> &'static [Migration] {
    Box::leak(migrations.into_boxed_slice())
}
