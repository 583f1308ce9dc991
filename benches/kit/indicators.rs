//! Item 5, indicators: the corpus's definitions synced into an empty `system_indicators`
//! (`migrate indicators` after postgres is at head) and synced again when nothing changed,
//! against one `COPY` of the same rows into an empty table of the same shape.

use crate::context::Context;

pub fn measure(context: &mut Context) {
    let rows = context.logs.join("indicator_rows.copy");
    std::fs::write(&rows, context.corpus.indicator_rows()).expect("write the COPY rows");
    let rows = rows.to_string_lossy().into_owned();
    let servers = context.stack.direct();
    let (mut from_nothing, mut unchanged, mut copy) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..context.sizes.runs {
        let database = context.runtime.block_on(context.stack.fresh_postgres("indicators"));
        let env = context.stack.env(&servers, &database.name, "unused");
        context.migrator(&context.migrator, &env, &["migrate", "postgres"], &format!("indicators_setup_{run}"));
        let arguments = ["migrate", "indicators"];
        from_nothing
            .push(context.migrator(&context.migrator, &env, &arguments, &format!("indicators_sync_{run}")).wall);
        unchanged
            .push(context.migrator(&context.migrator, &env, &arguments, &format!("indicators_unchanged_{run}")).wall);

        let floor_database = context.runtime.block_on(context.stack.fresh_postgres("copy"));
        let table = &context.corpus.postgres[0].upgrade;
        context.runtime.block_on(context.stack.postgres_execute(&floor_database.name, table));
        let env = context.stack.env(&servers, &floor_database.name, "unused");
        copy.push(context.floor(&env, &["copy", &rows], &format!("indicators_copy_{run}")).wall);
    }
    let count = context.sizes.indicators;
    let report = &mut context.report;
    report.compare(&format!("5. indicators: {count} synced from nothing"), &from_nothing, "one COPY", &copy, Some(1.5));
    report.compare(&format!("5. indicators: {count} unchanged"), &unchanged, "one COPY", &copy, Some(1.5));
}
