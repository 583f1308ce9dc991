// Bodies, strings and names holding transaction words build; a no-transaction file may hold
// `CREATE INDEX CONCURRENTLY`; declared downgrades are carried in the plan with their reasons,
// and each statement is a slice of its script's one embedded text.
use tradeforge_migrator::plan::Reversal;

tradeforge_migrator::plan!("declared_downgrades_and_bodies");

fn main() {
    let [teams, index, backfill] = PLAN.postgres else { panic!("three PostgreSQL migrations") };
    assert_eq!(teams.upgrade.statements.len(), 5);
    assert!(teams.upgrade.statements[1].starts_with("CREATE FUNCTION touch()"));
    for statement in teams.upgrade.statements {
        let start = statement.as_ptr() as usize - teams.upgrade.sql.as_ptr() as usize;
        assert_eq!(&teams.upgrade.sql[start..start + statement.len()], *statement);
    }
    assert_eq!(teams.reversal, Reversal::Script);
    assert!(!index.upgrade.transactional);
    assert_eq!(backfill.reversal, Reversal::NoOp { reason: "upper-case names are valid in the older schema too" });
    assert!(backfill.downgrade.statements.is_empty());
    assert_eq!(PLAN.clickhouse[0].reversal, Reversal::Irreversible { reason: "the deleted rows are gone" });
}
