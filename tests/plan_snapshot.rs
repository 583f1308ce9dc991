//! The plan compiled from this repository's sources, as `migrator plan` prints it. Any change to
//! a migration, topic or indicator shows up here as a snapshot diff in review.

#[test]
fn repository_plan() {
    insta::assert_snapshot!(tradeforge_migrator::PLAN.render());
}
