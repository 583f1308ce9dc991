//! The `after_help` texts of `--help`: examples, the Alembic mapping, the environment and the exit
//! codes. The clap doc comments in `cli.rs` are the rest of the help.

pub(super) const MAIN_AFTER_HELP: &str = "\
Examples:
  migrator plan                          print what this binary would apply; contacts no server
  migrator migrate                       apply everything: PostgreSQL, ClickHouse, MongoDB, Kafka, indicators
  migrator migrate postgres clickhouse   only these targets, still in that order
  migrator migrate --dry-run             print the SQL and admin operations migrate would run
  migrator status                        where each target stands; changes nothing
  migrator check                         for CI: exit 4 when the servers and the plan disagree
  migrator history -v                    what was applied, when, how long it took
  migrator down --target postgres        undo the last PostgreSQL migration (asks first)
  migrator new clickhouse \"add sentiment\"  create the next upgrade/downgrade pair
  migrator verify-downgrades --create-scratch   prove every downgrade undoes its upgrade, on throwaway databases
  migrator --env-file .env migrate --wait 2m

Coming from Alembic or migrate.py:
  alembic upgrade head / migrate.py up         migrator up --target postgres   (or: migrator migrate)
  alembic upgrade <rev> / migrate.py up -r     migrator up --target postgres --to <version>
  alembic downgrade -1 / migrate.py down       migrator down --target postgres
  alembic downgrade <rev> / base               migrator down --target postgres --to <version>|base
  alembic current / migrate.py current         migrator status postgres
  alembic history [--verbose]                  migrator history --target postgres [-v]
  alembic upgrade head --sql                   migrator plan --sql postgres     (offline)
  alembic check                                migrator check
  alembic revision -m / migrate.py create      migrator new postgres \"<description>\"
  data_migrations/NNN_x.py (migrate())          migrator new postgres --data \"<description>\"  (Rust, with a downgrade)
  alembic stamp <rev>                          migrator baseline --target postgres <version>
  migrate.py production / python main.py       migrator migrate
  migrate.py clickhouse                        migrator migrate clickhouse

Exit codes:
  0  success (or migrations disabled by MIGRATE=disabled|false)
  1  a target failed (the error line says what was already applied), or a prompt was declined
  2  bad command line, environment variable, env file, version or description; or `down`/`redo`
     (or `repair`) without --yes outside a terminal; nothing was changed
  3  a server did not answer its health check within --wait, or refused it for good (wrong
     password, missing database, no privilege, TLS mismatch, refused librdkafka setting)
  4  (status, check) a target has pending changes or problems
  5  another migrator held the run lock for all of --lock-timeout; nothing was changed
  6  the run lock was lost mid-run (its session ended); stopped before the next step
130  SIGINT; 143  SIGTERM: stopped at the next safe point (a second signal stops at once)";

pub(super) const IMPORT_AFTER_HELP: &str = "\
Examples:
  migrator import golang-migrate db/migrations --target postgres
  migrator import dbmate db/migrations --target postgres --into migrations
  migrator import goose clickhouse/ --target clickhouse

Review every file listed after `needs a person:`, then build: the build checks the rest.";

pub(super) const PLAN_AFTER_HELP: &str = "\
Examples:
  migrator plan > plan.txt                   review it, or compare the fingerprint with the one `migrate` logs
  migrator plan --sql                        every statement, topic and indicator, from empty servers
  migrator plan --sql postgres > upgrade.sql only PostgreSQL's SQL, for a DBA to review or run

`--sql` prints migration SQL as written; topics and indicators are described in `--` comments (they
are admin requests and a bound-parameter upsert, not SQL). History rows are not included: after
running the SQL by hand, record it with `migrator baseline`.";

pub(super) const STATUS_AFTER_HELP: &str = "\
Examples:
  migrator status
  migrator status postgres clickhouse && echo \"databases are at the plan\"
  migrator status --format json | jq '.targets[] | {target, current, plan}'

Connections are configured as for `migrate` (see `migrator migrate --help`).";

pub(super) const CHECK_AFTER_HELP: &str = "\
Examples:
  migrator check                             in CI after deploying: fails when anything is pending or drifted
  migrator check postgres clickhouse         only the databases
  migrator check --format json

Connections are configured as for `migrate` (see `migrator migrate --help`).";

pub(super) const MIGRATE_AFTER_HELP: &str = "\
Examples:
  migrator migrate
  migrator migrate postgres kafka --wait 2m
  migrator migrate --dry-run > what-would-run.sql
  DATABASE_URL=postgresql+asyncpg://app@db:5432/trading_users POSTGRES_PASSWORD=… migrator migrate
  migrator migrate kafka --kafka-config security.protocol=SASL_SSL
  migrator migrate --lock-database-url postgres://app@db-primary:5432/trading_users   (behind PgBouncer)

Environment (a flag wins over its variable; an empty variable counts as unset):
  MIGRATE                   unset, `enabled` or `true` runs; `disabled` or `false` skips with
                            exit 0 (any case); any other value is refused with exit 2
                            (`--dry-run` still prints, since it changes nothing)
  DATABASE_URL              postgres://, postgresql:// or postgresql+asyncpg|psycopg|psycopg2://
  POSTGRES_HOST             [default: localhost]  (each fills what DATABASE_URL leaves out)
  POSTGRES_PORT             [default: 5432]
  POSTGRES_DB               [default: trading_users]
  POSTGRES_USER             [default: postgres]
  POSTGRES_PASSWORD         [default: postgres]
  CLICKHOUSE_URL            http(s)://user:password@host:port/?database=name
  CLICKHOUSE_HOST           [default: localhost]
  CLICKHOUSE_PORT           [default: 8123, the HTTP interface]
  CLICKHOUSE_DB             [default: default]  (`?database=` in CLICKHOUSE_URL wins)
  CLICKHOUSE_USER           [default: default]
  CLICKHOUSE_PASSWORD       [default: empty]
  MONGO_HOST                [default: localhost]
  MONGO_PORT                [default: 27017]
  MONGO_DATABASE            [default: trading_meta]
  MONGO_USER                [default: none, no authentication; `admin` once MONGO_PASSWORD is set]
  MONGO_PASSWORD            [default: none; `password` once MONGO_USER is set]
  KAFKA_BOOTSTRAP_SERVERS   [default: localhost:9092]
  KAFKA_CONFIG              librdkafka `key=value` entries separated by `;` or new lines
  MIGRATOR_LOCK_DATABASE_URL  a direct PostgreSQL URL for the run lock (see below)
  MIGRATOR_LOCK_TIMEOUT     [default: 5m]
  MIGRATOR_MIGRATION_LOCK_TIMEOUT  [default: 10s]  (PostgreSQL `lock_timeout` of each migration)
  MIGRATOR_STATEMENT_TIMEOUT       [default: none] (longest a migration statement may run)
  MIGRATOR_IO_TIMEOUT              [default: 30s]  (longest a server may leave a request unanswered)
  RUST_LOG                  log filter when --log-level is not given

Run lock: migrate, up, down, redo, baseline and repair hold a PostgreSQL advisory lock for the
whole run, so two deploys never migrate at once (the second waits up to --lock-timeout, then exits
5). It is taken whenever PostgreSQL is configured (DATABASE_URL, a POSTGRES_* variable or
--database-url) or a postgres/indicators target runs, even when only ClickHouse or Kafka is
migrated. A session lock does not survive PgBouncer's transaction pooling: when DATABASE_URL goes
through PgBouncer, give a direct URL with --lock-database-url; parts it leaves out (the password)
come from DATABASE_URL. The lock is checked before every migration and statement: if its session
ends mid-run (a restart, a failover, pg_terminate_backend), the run stops with `run lock lost`
(exit 6). SIGINT/SIGTERM stop the run at the next safe point (exit 130/143).

Passwords are never logged or printed; prefer variables or --env-file to flags for them,
since command lines are visible to other users of the machine.";

pub(super) const HISTORY_AFTER_HELP: &str = "\
Examples:
  migrator history                           both databases
  migrator history --target clickhouse
  migrator history --target postgres -v      also checksums and the size of each stored downgrade

Connections are configured as for `migrate` (see `migrator migrate --help`).";

pub(super) const UP_AFTER_HELP: &str = "\
Examples:
  migrator up --target postgres              every pending PostgreSQL migration
  migrator up --target clickhouse --to 5     pending ClickHouse migrations up to and including V5
  migrator up --target postgres --to V0003   versions may be written `3`, `V3` or `V0003`

Only the SQL migrations of that database run; `migrate` runs every target. Holds the run lock
(see `migrator migrate --help`).";

pub(super) const DOWN_AFTER_HELP: &str = "\
Examples:
  migrator down --target postgres            undo the last applied migration
  migrator down --target clickhouse --to 3   undo every migration above V3, newest first
  migrator down --target postgres --to base --yes   undo everything, without asking (scripts, CI)

A migration this binary does not know (applied by a newer release) is undone with the downgrade
stored in the history when it was applied. Holds the run lock (see `migrator migrate --help`), but
not while it asks: under the lock it reads the history again and refuses if what it would undo
changed meanwhile.";

pub(super) const REDO_AFTER_HELP: &str = "\
Examples:
  migrator redo --target postgres            run the last migration's downgrade, then its upgrade
  migrator redo --target clickhouse --yes

Meant for a developer's own database while writing a migration. Holds the run lock.";

pub(super) const NEW_AFTER_HELP: &str = "\
Examples:
  migrator new postgres \"add orders table\"     → migrations/postgres/{upgrade,downgrade}/V0009-add_orders_table.sql
  migrator new postgres --data \"fill limits\"  → migrations/postgres/data/fill_limits.rs (Rust data migration)
  migrator new clickhouse sentiment_scores --dir ../platform

The version is one above the highest of that database's upgrade and downgrade files (and, for
PostgreSQL, its data migrations), written with as many digits as the newest file (4 for the
first). Spaces in the description become `_`. A data migration's description must make a Rust
module name (letters, digits, `_`; not starting with a digit).";

pub(super) const BASELINE_AFTER_HELP: &str = "\
Examples:
  migrator baseline --target postgres 7      the schema of V1..V7 is already there: record them
  migrator baseline --target clickhouse V5

Adopting a database managed by Alembic: make this repository's migrations reproduce the schema
Alembic built, check with `migrator plan --sql postgres` against `pg_dump --schema-only`, then
run `migrator baseline --target postgres <last version>` once; from then on `migrate` applies
only newer migrations. Holds the run lock (see `migrator migrate --help`).";

pub(super) const VERIFY_AFTER_HELP: &str = "\
Examples:
  migrator verify-downgrades --create-scratch                   in CI: both databases, on throwaway databases
  migrator verify-downgrades --target postgres --create-scratch
  DATABASE_URL=postgres://app@localhost/scratch migrator verify-downgrades --target postgres

WARNING: without --create-scratch it runs on the configured database and applies and reverts every
migration there; it refuses a database whose history is not empty, and leaves it at the plan's head.
Schemas are compared from the catalogs (PostgreSQL: tables, columns, constraints, indexes, views,
sequences, types, functions, triggers; ClickHouse: system.tables and system.columns), without
`migration_history`; data is not compared. No run lock is taken.";

pub(super) const REPAIR_AFTER_HELP: &str = "\
Examples:
  migrator repair                            both databases
  migrator repair --target clickhouse        after finishing a half-applied migration by hand
  migrator repair --target postgres --yes    in a script, after checking what it prints

It runs no migration: it only writes history, so it first prints every line it would record and
asks on a terminal; elsewhere it prints them and stops unless given --yes (exit 2).

Holds the run lock (see `migrator migrate --help`).";
