//! The MongoDB target against the stack's SecantusDB (`scripts/stack up`,
//! `eval "$(scripts/stack env)"`): each test migrates a database of its own and checks what the
//! server holds afterwards. The binary runs with MongoDB alone configured, so the MongoDB lock
//! document, not PostgreSQL's run lock, is what keeps concurrent migrators apart.

mod common;

use std::process::Command;

use common::binary::{migrator, run, Outcome};
use common::mongodb::TestDatabase;
use common::plan::{leak, plan_of};
use tradeforge_migrator::plan::{Migration, Plan, Reversal, Script, SqlTarget};
use tradeforge_migrator::targets::mongodb::driver::bson::{doc, Bson, Document};
use tradeforge_migrator::targets::mongodb::{MongoError, MongoTarget};
use tradeforge_migrator::targets::versioned::VersionedError;
use tradeforge_migrator::targets::{ApplyOptions, Target};

const SENTINEL: &str = "sentinel-mongo-pw-7d1f";

const SEED_COLLECTIONS: [&str; 6] =
    ["event_store", "genetic_algorithm_config", "indicator_metadata", "ml_models", "strategy_configs", "system_logs"];

/// The binary pointed at `database` alone, logging JSON.
fn migrator_on(database: &TestDatabase) -> Command {
    let mut command = migrator();
    command
        .env("MONGO_HOST", common::mongodb::host())
        .env("MONGO_PORT", common::mongodb::port().to_string())
        .env("MONGO_DATABASE", database.name())
        .args(["--log-format", "json"]);
    command
}

fn text(value: &str) -> &'static str {
    Box::leak(value.to_owned().into_boxed_str())
}

/// A migration of commands (canonical JSON, as the plan carries them).
fn migration(version: u64, upgrade: &[&str], downgrade: &[&str]) -> Migration {
    let script = |direction: &str, commands: &[&str]| Script {
        path: text(&format!("migrations/mongodb/{direction}/V{version}-test.yml")),
        sql: "",
        statements: Box::leak(commands.iter().map(|command| text(command)).collect::<Vec<_>>().into_boxed_slice()),
        transactional: false,
    };
    Migration {
        version,
        description: text(&format!("test{version}")),
        checksum: text(&format!("sha256:test{version}")),
        upgrade: script("upgrade", upgrade),
        downgrade: script("downgrade", downgrade),
        data: None,
        reversal: Reversal::Script,
    }
}

fn plan(migrations: Vec<Migration>) -> Plan {
    plan_of(SqlTarget::MongoDb, leak(migrations))
}

fn record(history: &[Document], version: i64) -> &Document {
    history
        .iter()
        .find(|document| document.get_i64("_id") == Ok(version))
        .unwrap_or_else(|| panic!("V{version} in {history:#?}"))
}

/// The number of `V<n> …` change lines a `migrate` printed.
fn applied_lines(outcome: &Outcome) -> usize {
    outcome.stdout.lines().filter(|line| line.trim_start().starts_with('V')).count()
}

#[tokio::test]
async fn migrate_from_empty_applies_the_repository_plan_and_a_second_run_applies_nothing() {
    let database = TestDatabase::new();
    let first = run(migrator_on(&database).args(["migrate", "mongodb"])).expect_success("first migrate");
    assert!(first.stdout.contains("mongodb: applied 6 changes"), "{}", first.stdout);

    let mut expected: Vec<&str> = SEED_COLLECTIONS.to_vec();
    expected.push("migrations");
    expected.sort();
    assert_eq!(database.collections().await, expected);

    // The validators are enforced: a document missing required fields is refused, a valid one
    // is accepted, and the unique indexes hold.
    let configs = database.database.collection::<Document>("strategy_configs");
    let refused = configs.insert_one(doc! { "name": "no id" }).await.expect_err("validator refuses");
    assert!(refused.to_string().contains("121") || refused.to_string().contains("alidation"), "{refused}");
    let now = tradeforge_migrator::targets::mongodb::driver::bson::DateTime::now();
    let valid = doc! { "strategy_id": "s1", "name": "trend", "parameters": {}, "enabled": true, "created_at": now };
    configs.insert_one(valid.clone()).await.expect("a valid document is accepted");
    let duplicate = configs.insert_one(valid).await.expect_err("the unique index refuses a second s1");
    assert!(duplicate.to_string().contains("11000"), "{duplicate}");
    let logs = database.database.collection::<Document>("system_logs");
    assert!(logs.insert_one(doc! { "timestamp": now, "level": "LOUD", "service": "x", "message": "m" }).await.is_err());

    assert_eq!(
        database.indexes("event_store").await,
        ["_id_", "event_store_aggregate_time", "event_store_aggregate_version_unique", "event_store_type_time"]
    );
    let mut indexes = database.database.collection::<Document>("system_logs").list_indexes().await.expect("indexes");
    let mut ttl = None;
    while indexes.advance().await.expect("index") {
        let index = indexes.deserialize_current().expect("index");
        if index.options.as_ref().and_then(|options| options.name.as_deref()) == Some("system_logs_ttl_30d") {
            ttl = index.options.and_then(|options| options.expire_after);
        }
    }
    assert_eq!(ttl.map(|ttl| ttl.as_secs()), Some(2_592_000), "the TTL index of system_logs");

    // What verify-downgrades compares: each collection with its validator, each index.
    let dump = MongoTarget::new(&database.config).schema_dump().await.expect("schema dump");
    assert!(
        dump.lines().any(|line| line.starts_with("collection system_logs ") && line.contains("$jsonSchema")),
        "{dump}"
    );
    assert!(dump.lines().any(|line| line.starts_with("index system_logs ") && line.contains("2592000")), "{dump}");
    assert!(!dump.contains("migrations"), "{dump}");
    let history = database.history().await;
    assert_eq!(history.len(), 6);
    for document in &history {
        assert_eq!(document.get_str("state"), Ok("applied"), "{document}");
        assert_eq!(document.get_i64("done"), document.get_i64("total"), "{document}");
    }

    let second = run(migrator_on(&database).args(["migrate", "mongodb"])).expect_success("second migrate");
    assert!(second.stdout.contains("mongodb: up to date (V6)"), "{}", second.stdout);
    assert_eq!(applied_lines(&second), 0, "{}", second.stdout);
}

#[tokio::test]
async fn down_to_base_leaves_only_an_empty_history() {
    let database = TestDatabase::new();
    run(migrator_on(&database).args(["migrate", "mongodb"])).expect_success("migrate");
    let down = run(migrator_on(&database).args(["down", "--target", "mongodb", "--to", "base", "--yes"]))
        .expect_success("down --to base");
    assert!(down.stdout.contains("V1 strategy_configs reverted"), "{}", down.stdout);
    assert_eq!(database.collections().await, ["migrations"]);
    assert_eq!(database.history().await, Vec::<Document>::new());
    let status = run(migrator_on(&database).args(["status", "mongodb"]));
    assert!(status.stdout.contains("pending  V6 genetic_algorithm_config"), "{}", status.stdout);
    let again = run(migrator_on(&database).args(["migrate", "mongodb"])).expect_success("migrate after down");
    assert!(again.stdout.contains("mongodb: applied 6 changes"), "{}", again.stdout);
}

#[tokio::test]
async fn verify_downgrades_passes_on_the_repository_plan() {
    let database = TestDatabase::new();
    let verified = run(migrator_on(&database).args(["verify-downgrades", "--target", "mongodb"]))
        .expect_success("verify-downgrades");
    assert!(verified.stdout.contains("every downgrade undoes its upgrade (6 migrations"), "{}", verified.stdout);
}

/// V2's second command inserts a document V1's validator refuses: the run stops there with V1
/// applied and V2 partial after one command; once the cause is fixed by hand, the next run
/// resumes at command 2: `create second` is not sent again (it would fail: the collection exists).
#[tokio::test]
async fn a_command_failing_half_way_records_honest_history_and_the_next_run_resumes_at_it() {
    let database = TestDatabase::new();
    let plan = plan(vec![
        migration(
            1,
            &[r#"{"create":"first","validator":{"$jsonSchema":{"bsonType":"object","required":["x"]}}}"#],
            &[r#"{"drop":"first"}"#],
        ),
        migration(
            2,
            &[
                r#"{"create":"second"}"#,
                r#"{"insert":"first","documents":[{"y":1}]}"#,
                r#"{"createIndexes":"second","indexes":[{"key":{"z":1},"name":"second_z"}]}"#,
            ],
            &[r#"{"drop":"second"}"#, r#"{"delete":"first","deletes":[{"q":{},"limit":0}]}"#],
        ),
    ]);
    let mut target = MongoTarget::new(&database.config);
    target.health_check().await.expect("health check");

    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("command 2 of V2 is refused");
    assert_eq!(failure.done.0.len(), 1, "{:?}", failure.done);
    let message = failure.error.to_string();
    assert!(message.contains("V2 test2 stopped at command 2/3 (`insert first`)"), "{message}");
    assert!(message.contains("resumes at command 2/3"), "{message}");
    let history = database.history().await;
    assert_eq!(record(&history, 1).get_str("state"), Ok("applied"));
    let partial = record(&history, 2);
    assert_eq!(partial.get_str("state"), Ok("partial"), "{partial}");
    assert_eq!((partial.get_i64("done"), partial.get_i64("total")), (Ok(1), Ok(3)), "{partial}");
    assert_eq!(partial.get_bool("in_flight"), Ok(false), "{partial}");
    assert!(matches!(partial.get("error"), Some(Bson::String(_))), "{partial}");
    assert!(database.collections().await.contains(&"second".to_owned()));
    assert_eq!(database.indexes("second").await, ["_id_"]);

    database.run(doc! { "collMod": "first", "validationLevel": "off" }).await.expect("fix the cause by hand");
    let resumed = target.apply(&plan, &ApplyOptions::default()).await.expect("the resume succeeds");
    assert_eq!(resumed.0.len(), 1, "{resumed:?}");
    assert!(resumed.0[0].starts_with("V2 test2 (resumed at command 2/3"), "{resumed:?}");
    let history = database.history().await;
    let applied = record(&history, 2);
    assert_eq!(applied.get_str("state"), Ok("applied"), "{applied}");
    assert_eq!(applied.get_i64("done"), Ok(3), "{applied}");
    assert_eq!(database.indexes("second").await, ["_id_", "second_z"]);
}

/// A migrator killed while a command was in flight leaves `in_flight`; the next run settles it
/// from the catalog (the collection exists, so `create` ran) and goes on after it, and refuses
/// when the catalog cannot tell (a `collMod`).
#[tokio::test]
async fn a_command_in_flight_is_settled_from_the_catalog_or_refused() {
    let database = TestDatabase::new();
    let plan = plan(vec![migration(
        1,
        &[r#"{"create":"made"}"#, r#"{"create":"after"}"#],
        &[r#"{"drop":"after"}"#, r#"{"drop":"made"}"#],
    )]);
    // What a killed run leaves: the intent for command 1, and command 1's effect.
    let intent = doc! {
        "_id": 1_i64, "description": "test1", "checksum": "sha256:test1",
        "applied_at": tradeforge_migrator::targets::mongodb::driver::bson::DateTime::now(), "execution_ms": 0_i64,
        "state": "partial", "done": 0_i64, "total": 2_i64, "in_flight": true, "downgrade": "", "error": Bson::Null,
    };
    database.database.collection::<Document>("migrations").insert_one(intent.clone()).await.expect("intent");
    database.run(doc! { "create": "made" }).await.expect("command 1 ran before the kill");

    let mut target = MongoTarget::new(&database.config);
    let changes = target.apply(&plan, &ApplyOptions::default()).await.expect("settled and resumed");
    assert!(changes.0[0].starts_with("V1 test1 (resumed at command 2/2"), "{changes:?}");
    assert_eq!(record(&database.history().await, 1).get_str("state"), Ok("applied"));

    let other = TestDatabase::new();
    let plan = plan_of(
        SqlTarget::MongoDb,
        leak(vec![migration(1, &[r#"{"collMod":"made","validationLevel":"off"}"#], &[r#"{"drop":"made"}"#])]),
    );
    let mut intent = intent;
    intent.insert("total", 1_i64);
    other.database.collection::<Document>("migrations").insert_one(intent).await.expect("intent");
    let mut target = MongoTarget::new(&other.config);
    let failure = target.apply(&plan, &ApplyOptions::default()).await.expect_err("a collMod cannot be settled");
    assert!(matches!(failure.error.versioned(), Some(VersionedError::Unsettled(_))), "{}", failure.error);
    assert!(failure.error.to_string().contains("repair"), "{}", failure.error);
}

#[tokio::test]
async fn three_migrators_at_once_apply_each_command_once() {
    let database = TestDatabase::new();
    let children: Vec<_> = (0..3)
        .map(|_| {
            migrator_on(&database)
                .args(["migrate", "mongodb"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start migrator")
        })
        .collect();
    let outcomes: Vec<Outcome> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("wait");
            Outcome {
                code: output.status.code(),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            }
        })
        .collect();
    // A command sent twice would fail (`create` of an existing collection), so three successes
    // and six applied migrations in all mean every command ran once.
    for outcome in &outcomes {
        assert_eq!(outcome.code, Some(0), "stdout: {}\nstderr: {}", outcome.stdout, outcome.stderr);
    }
    assert_eq!(outcomes.iter().map(applied_lines).sum::<usize>(), 6, "{outcomes:#?}");
    assert_eq!(database.history().await.len(), 6);
}

/// A lock left by a holder that died (expired) is taken over; a live one makes `migrate` wait
/// for `--lock-timeout` and stop, naming the holder.
#[tokio::test]
async fn the_lock_of_a_dead_holder_expires_and_a_live_one_is_waited_for() {
    use tradeforge_migrator::targets::mongodb::driver::bson::DateTime;
    let database = TestDatabase::new();
    let locks = database.database.collection::<Document>("migrations");
    let live = doc! { "_id": "lock", "owner": "other-host:42:1", "expires_at": DateTime::from_millis(DateTime::now().timestamp_millis() + 600_000) };
    locks.insert_one(live).await.expect("a live lock");
    let waited = run(migrator_on(&database).env("MIGRATOR_LOCK_TIMEOUT", "1s").args(["migrate", "mongodb"]));
    assert_ne!(waited.code, Some(0), "{}", waited.stdout);
    assert!(
        waited.stderr.contains("another migrator holds the MongoDB migration lock (`other-host:42:1`"),
        "{}",
        waited.stderr
    );
    assert_eq!(database.history().await.len(), 0);

    let expired = doc! { "$set": { "expires_at": DateTime::from_millis(DateTime::now().timestamp_millis() - 1_000) } };
    locks.update_one(doc! { "_id": "lock" }, expired).await.expect("the holder died long ago");
    let taken = run(migrator_on(&database).env("MIGRATOR_LOCK_TIMEOUT", "1s").args(["migrate", "mongodb"]))
        .expect_success("migrate after the lock expired");
    assert!(taken.stdout.contains("mongodb: applied 6 changes"), "{}", taken.stdout);
    let lock = locks.find_one(doc! { "_id": "lock" }).await.expect("read the lock");
    assert_eq!(lock, None, "the lock is released at the end");
}

#[tokio::test]
async fn the_password_never_appears_in_output() {
    let database = TestDatabase::new();
    for args in [&["migrate", "mongodb"][..], &["status", "mongodb"], &["history", "--target", "mongodb"]] {
        let outcome = run(migrator_on(&database)
            .env("MONGO_USER", "tfm")
            .env("MONGO_PASSWORD", SENTINEL)
            .args(["--log-level", "trace"])
            .args(args)
            .args(["--wait", "2s"].iter().filter(|_| args[0] != "history")));
        assert_ne!(outcome.code, Some(0), "{args:?}: {}", outcome.stdout);
        assert!(outcome.stderr.contains("MONGO_PASSWORD"), "{args:?}: {}", outcome.stderr);
        for stream in [&outcome.stdout, &outcome.stderr] {
            assert!(!stream.contains(SENTINEL), "{args:?} printed the password: {stream}");
        }
    }
    assert!(matches!(
        MongoTarget::new(&tradeforge_migrator::config::MongoConfig {
            user: Some("tfm".into()),
            password: tradeforge_migrator::config::Secret::new(SENTINEL),
            ..database.config.clone()
        })
        .health_check()
        .await,
        Err(MongoError::Authentication { .. })
    ));
}

/// `new mongodb` writes the next pair beside the existing ones, in their digit width; the build
/// then asks for the commands (the files hold none yet).
#[test]
fn new_writes_the_next_pair_and_the_build_asks_for_its_commands() {
    let root = tempfile::tempdir().expect("temp dir");
    for direction in ["upgrade", "downgrade"] {
        let folder = root.path().join("migrations/mongodb").join(direction);
        std::fs::create_dir_all(&folder).expect("folder");
        let text = if direction == "upgrade" { "commands:\n  - create: a\n" } else { "commands:\n  - drop: a\n" };
        std::fs::write(folder.join("V0007-a.yml"), text).expect("write V0007");
    }
    let created =
        run(migrator().args(["new", "mongodb", "add orders", "--dir"]).arg(root.path())).expect_success("new mongodb");
    for direction in ["upgrade", "downgrade"] {
        let path = root.path().join(format!("migrations/mongodb/{direction}/V0008-add_orders.yml"));
        assert!(path.is_file(), "{}: {}", path.display(), created.stdout);
    }
    let mut problems = tradeforge_migrator_spec::diag::Problems::default();
    let migrations = tradeforge_migrator_spec::mongodb::check(root.path(), &mut problems);
    assert_eq!(migrations.len(), 1);
    let errors: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors.iter().all(|error| error.contains("holds no command")), "{errors:#?}");
}

/// A version the running binary's plan does not know (a newer release applied it) is refused by
/// `migrate` and undone by `down` with the downgrade stored in its history document.
#[tokio::test]
async fn a_version_the_plan_forgot_is_refused_and_undone_with_its_stored_downgrade() {
    use tradeforge_migrator::targets::{VersionTarget, VersionedTarget};
    let database = TestDatabase::new();
    let v1 = migration(1, &[r#"{"create":"kept"}"#], &[r#"{"drop":"kept"}"#]);
    let v2 = migration(
        2,
        &[r#"{"create":"newer"}"#, r#"{"createIndexes":"newer","indexes":[{"key":{"n":1},"name":"newer_n"}]}"#],
        &[r#"{"dropIndexes":"newer","index":"newer_n"}"#, r#"{"drop":"newer"}"#],
    );
    let mut target = MongoTarget::new(&database.config);
    target.apply(&plan(vec![v1, v2]), &ApplyOptions::default()).await.expect("the newer release applies V2");

    let older = plan(vec![v1]);
    let refused = target.apply(&older, &ApplyOptions::default()).await.expect_err("V2 is ahead of the plan");
    assert!(matches!(refused.error.versioned(), Some(VersionedError::AheadOfPlan { database_head: 2, .. })));
    assert!(refused.error.to_string().contains("recorded in `migrations`"), "{}", refused.error);

    let undone = target.downgrade_to(&older, VersionTarget::Version(1)).await.expect("down with the stored downgrade");
    assert_eq!(undone.0.len(), 1, "{undone:?}");
    assert_eq!(database.collections().await, ["kept", "migrations"]);
    assert_eq!(database.history().await.len(), 1);
}
