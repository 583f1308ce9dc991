// Fills `subscriptions.limits` (left `{}` by V5) with each plan's limits, so that the services
// read one place instead of keeping their own copy of the plan table. Subscriptions whose limits
// were set by hand are left alone, and so are they on the way down.

#[tradeforge_migrator::data_migration(version = 8)]
mod subscription_limits {
    use serde_json::json;
    use tradeforge_migrator::plan::{DataError, PgConnection};

    /// Each plan's limits, as V5's column comment names them.
    fn plan_limits() -> [(&'static str, serde_json::Value); 4] {
        [
            ("free", json!({ "max_strategies": 1, "max_live_accounts": 0, "max_backtests_per_day": 5 })),
            ("basic", json!({ "max_strategies": 5, "max_live_accounts": 1, "max_backtests_per_day": 50 })),
            ("pro", json!({ "max_strategies": 25, "max_live_accounts": 5, "max_backtests_per_day": 500 })),
            ("enterprise", json!({ "max_strategies": 250, "max_live_accounts": 50, "max_backtests_per_day": 5000 })),
        ]
    }

    /// `(plans, limits)` as two arrays, for one set-based statement whatever the number of rows.
    fn columns() -> (Vec<&'static str>, Vec<String>) {
        plan_limits().into_iter().map(|(plan, limits)| (plan, limits.to_string())).unzip()
    }

    pub async fn upgrade(db: &mut PgConnection) -> Result<(), DataError> {
        let (plans, limits) = columns();
        sqlx::query(
            "UPDATE subscriptions SET limits = defaults.limits::jsonb, updated_at = now()
             FROM UNNEST($1::text[], $2::text[]) AS defaults (plan, limits)
             WHERE subscriptions.plan = defaults.plan AND subscriptions.limits = '{}'::jsonb",
        )
        .bind(plans)
        .bind(limits)
        .execute(db)
        .await?;
        Ok(())
    }

    pub async fn downgrade(db: &mut PgConnection) -> Result<(), DataError> {
        let (plans, limits) = columns();
        sqlx::query(
            "UPDATE subscriptions SET limits = '{}'::jsonb, updated_at = now()
             FROM UNNEST($1::text[], $2::text[]) AS defaults (plan, limits)
             WHERE subscriptions.plan = defaults.plan AND subscriptions.limits = defaults.limits::jsonb",
        )
        .bind(plans)
        .bind(limits)
        .execute(db)
        .await?;
        Ok(())
    }
}
