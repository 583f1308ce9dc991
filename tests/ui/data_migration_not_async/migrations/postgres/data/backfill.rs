#[tradeforge_migrator::data_migration(version = 2)]
mod backfill {
    use tradeforge_migrator::plan::{DataError, PgConnection};

    pub async fn upgrade(db: &mut PgConnection) -> Result<(), DataError> {
        sqlx::query("UPDATE accounts SET display_name = email").execute(db).await?;
        Ok(())
    }

    pub fn downgrade(_db: &mut PgConnection) -> Result<(), DataError> {
        Ok(())
    }
}
