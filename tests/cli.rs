//! The real `migrator` binary: `plan` without servers, `MIGRATE`, bad settings rejected before
//! anything connects, the health check giving up after `--wait`, JSON log lines, and passwords
//! never printed. Servers are pointed at closed ports, so these tests need no stack.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tradeforge_migrator::PLAN;

use common::binary::{migrator, run, Outcome};
use common::free_port as closed_port;

const SENTINEL: &str = "Sentinel-Pw-9f3b2a";

/// Every server of the config at a closed port, every credential the sentinel.
fn point_everything_at_closed_ports(command: &mut Command) -> &mut Command {
    command
        .env("DATABASE_URL", format!("postgresql+asyncpg://app:{SENTINEL}@127.0.0.1:{}/trading", closed_port()))
        .env("CLICKHOUSE_URL", format!("http://writer:{SENTINEL}@127.0.0.1:{}/?database=trading", closed_port()))
        .env("MONGO_PORT", closed_port().to_string())
        .env("MONGO_PASSWORD", SENTINEL)
        .env("KAFKA_BOOTSTRAP_SERVERS", format!("127.0.0.1:{}", closed_port()))
}

/// The JSON log lines of stderr; every line but the final `error:` one must be JSON.
fn json_lines(stderr: &str) -> Vec<Value> {
    stderr
        .lines()
        .filter(|line| !line.starts_with("error: "))
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}")))
        .collect()
}

fn events(lines: &[Value]) -> Vec<&str> {
    lines.iter().map(|line| line["event"].as_str().expect("event is a string")).collect()
}

fn error_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|line| line.starts_with("error: ")).collect()
}

#[test]
fn plan_prints_the_compiled_plan_without_any_server() {
    let Outcome { code, stdout, .. } = run(point_everything_at_closed_ports(&mut migrator()).arg("plan"));
    assert!(code == Some(0), "{code:?}");
    assert_eq!(stdout, PLAN.render());
    assert!(stdout.starts_with(&format!("plan {}\n", PLAN.fingerprint)), "{stdout}");
}

#[test]
fn every_command_help_shows_an_example() {
    for args in
        [&["--help"][..], &["migrate", "--help"], &["status", "--help"], &["plan", "--help"], &["help", "migrate"]]
    {
        let Outcome { code, stdout, .. } = run(migrator().args(args));
        assert!(code == Some(0), "{args:?}: {code:?}");
        assert!(stdout.contains("Example"), "{args:?}: {stdout}");
    }
    let Outcome { stdout, .. } = run(migrator().args(["migrate", "--help"]));
    for name in ["DATABASE_URL", "CLICKHOUSE_URL", "KAFKA_BOOTSTRAP_SERVERS", "MIGRATE", "--env-file", "--wait"] {
        assert!(stdout.contains(name), "`migrate --help` should mention {name}: {stdout}");
    }
    let Outcome { stdout, .. } = run(migrator().arg("--help"));
    assert!(stdout.contains("environment wins over the file"), "{stdout}");
}

#[test]
fn migrate_disabled_logs_it_exits_zero_and_connects_nothing() {
    for value in ["disabled", "false"] {
        let started = Instant::now();
        let Outcome { code, stdout, stderr } = run(point_everything_at_closed_ports(&mut migrator())
            .env("MIGRATE", value)
            .args(["--log-format", "json", "migrate", "--wait", "30s"]));
        assert_eq!(code, Some(0), "{stderr}");
        // A single health check against the closed ports would have waited out `--wait`.
        assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
        let lines = json_lines(&stderr);
        assert_eq!(events(&lines), ["migrator.disabled"], "{stderr}");
        assert!(lines[0]["message"].as_str().expect("message").contains("migrations are disabled"), "{stderr}");
        assert!(stdout.contains("disabled"), "{stdout}");
    }
}

#[test]
fn migrate_enabled_runs() {
    let Outcome { code, stderr, .. } = run(point_everything_at_closed_ports(&mut migrator())
        .env("MIGRATE", "enabled")
        .args(["--log-format", "json", "migrate", "postgres", "--wait", "0s"]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(events(&json_lines(&stderr)).contains(&"postgresql_migrator.started"), "{stderr}");
}

/// Variables, flags, and the start of the expected error line.
type BadSetting = (&'static [(&'static str, &'static str)], &'static [&'static str], &'static str);

#[test]
fn bad_settings_fail_with_one_line_naming_them_before_anything_connects() {
    let cases: [BadSetting; 7] = [
        (&[("POSTGRES_PORT", "abc")], &[], "error: `POSTGRES_PORT` must be a port number"),
        (&[("CLICKHOUSE_PORT", "99999")], &[], "error: `CLICKHOUSE_PORT` must be a port number"),
        (
            &[("DATABASE_URL", "mysql://app:Sentinel-Pw-9f3b2a@db/x")],
            &[],
            "error: `DATABASE_URL` has the scheme `mysql`",
        ),
        (&[("CLICKHOUSE_URL", "tcp://ch:9000")], &[], "error: `CLICKHOUSE_URL` has the scheme `tcp`"),
        (&[("KAFKA_BOOTSTRAP_SERVERS", "kafka:x")], &[], "error: `KAFKA_BOOTSTRAP_SERVERS` must be a port number"),
        (&[], &["--wait", "soon"], "error: `--wait` is not a duration"),
        (&[], &["--kafka-config", "sasl.passwordSentinel-Pw-9f3b2a"], "error: `--kafka-config` entry 1 has no `=`"),
    ];
    for (variables, flags, expected) in cases {
        let mut command = migrator();
        command.envs(variables.iter().copied()).args(["--log-format", "json", "migrate"]).args(flags);
        let Outcome { code, stdout, stderr } = run(&mut command);
        assert_eq!(code, Some(2), "{variables:?} {flags:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line only: {stderr}");
        assert!(stderr.starts_with(expected), "expected `{expected}`: {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(!stderr.contains(SENTINEL), "{stderr}");
    }
}

#[test]
fn bad_log_level_is_a_usage_error() {
    let Outcome { code, stderr, .. } = run(migrator().args(["--log-level", "info,=[", "plan"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.starts_with("error: `--log-level` is not a valid log filter"), "{stderr}");
}

#[test]
fn unknown_target_is_a_usage_error() {
    let Outcome { code, stderr, .. } = run(migrator().args(["migrate", "redis"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("redis"), "{stderr}");
}

#[test]
fn health_check_gives_up_after_wait_naming_the_target_and_address() {
    let port = closed_port();
    let started = Instant::now();
    let Outcome { code, stdout, stderr } = run(migrator()
        .env("DATABASE_URL", format!("postgres://app:{SENTINEL}@127.0.0.1:{port}/trading"))
        .args(["--log-format", "json", "migrate", "postgres", "--wait", "1s"]));
    let elapsed = started.elapsed();
    assert_eq!(code, Some(3), "{stderr}");
    assert!(elapsed >= Duration::from_secs(1), "gave up before --wait: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(15), "waited far past --wait: {elapsed:?}");
    let errors = error_lines(&stderr);
    assert_eq!(errors.len(), 1, "{stderr}");
    let expected = format!(
        "error: postgres at `postgres://app@127.0.0.1:{port}/trading` did not pass its health check within 1s ("
    );
    assert!(errors[0].contains("raise `--wait`"), "{}", errors[0]);
    assert!(errors[0].starts_with(&expected), "{}", errors[0]);
    assert!(errors[0].ends_with("; nothing was applied"), "{}", errors[0]);
    assert!(stderr.ends_with(&format!("{}\n", errors[0])), "the error line comes last: {stderr}");
    assert!(!stdout.contains(SENTINEL) && !stderr.contains(SENTINEL), "{stderr}");
}

#[test]
fn targets_run_in_the_fixed_order_whatever_order_they_are_named_in() {
    let Outcome { code, stderr, .. } = run(point_everything_at_closed_ports(&mut migrator()).args([
        "--log-format",
        "json",
        "migrate",
        "kafka",
        "postgres",
        "--wait",
        "0s",
    ]));
    assert_eq!(code, Some(3), "{stderr}");
    let lines = json_lines(&stderr);
    let started: Vec<&str> = events(&lines).into_iter().filter(|event| event.ends_with(".started")).collect();
    // Fail-fast: PostgreSQL comes first, fails, and Kafka is never started.
    assert_eq!(started, ["migrator.started", "postgresql_migrator.started"], "{stderr}");
    assert!(error_lines(&stderr)[0].starts_with("error: postgres at "), "{stderr}");
}

#[test]
fn status_waits_for_the_server_like_migrate() {
    let Outcome { code, stdout, stderr } = run(point_everything_at_closed_ports(&mut migrator()).args([
        "--log-format",
        "json",
        "status",
        "clickhouse",
        "--wait",
        "0s",
    ]));
    assert_eq!(code, Some(3), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(error_lines(&stderr)[0].starts_with("error: clickhouse at `http://writer@127.0.0.1:"), "{stderr}");
    assert!(!stderr.contains(SENTINEL), "{stderr}");
}

#[test]
fn json_log_lines_carry_the_required_keys() {
    let Outcome { stderr, .. } = run(point_everything_at_closed_ports(&mut migrator()).args([
        "--log-format",
        "json",
        "migrate",
        "postgres",
        "--wait",
        "0s",
    ]));
    let lines = json_lines(&stderr);
    assert!(lines.len() >= 3, "{stderr}");
    for line in &lines {
        let object = line.as_object().unwrap_or_else(|| panic!("not an object: {line}"));
        for key in ["timestamp", "level", "event", "service", "message"] {
            assert!(object.contains_key(key), "missing `{key}`: {line}");
        }
        assert_eq!(object["service"], "migrator", "{line}");
        let timestamp = object["timestamp"].as_str().expect("timestamp is a string");
        assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok() && timestamp.ends_with('Z'), "{line}");
        let level = object["level"].as_str().expect("level is a string");
        assert!(["trace", "debug", "info", "warn", "error"].contains(&level), "{line}");
    }
    let find = |event: &str| {
        lines.iter().find(|line| line["event"] == event).unwrap_or_else(|| panic!("no `{event}` line: {stderr}"))
    };
    assert_eq!(find("migrator.started")["plan_fingerprint"], PLAN.fingerprint);
    assert_eq!(find("postgresql_migrator.started")["target"], "postgres");
    let failed = find("postgresql_migrator.failed");
    assert_eq!(failed["target"], "postgres");
    assert_eq!(failed["level"], "error");
    assert!(failed["duration_ms"].is_u64(), "{failed}");
    let stopped = lines.last().expect("lines");
    assert_eq!(stopped["event"], "migrator.failed", "the run's last log line says it stopped: {stderr}");
    assert_eq!(stopped["target"], "postgres");
}

#[test]
fn text_log_format_is_readable_lines() {
    let Outcome { stderr, .. } = run(point_everything_at_closed_ports(&mut migrator()).args([
        "--log-format",
        "text",
        "migrate",
        "postgres",
        "--wait",
        "0s",
    ]));
    let log_lines: Vec<&str> = stderr.lines().filter(|line| !line.starts_with("error: ")).collect();
    assert!(!log_lines.is_empty(), "{stderr}");
    for line in &log_lines {
        assert!(serde_json::from_str::<Value>(line).is_err(), "text, not JSON: {line}");
        assert!(!line.contains('\x1b'), "no colour when stderr is not a terminal: {line}");
    }
    assert!(
        log_lines.iter().any(|line| line.contains(" INFO ") && line.contains("event=migrator.started")),
        "{stderr}"
    );
}

#[test]
fn auto_log_format_is_json_when_stderr_is_not_a_terminal() {
    let Outcome { stderr, .. } =
        run(point_everything_at_closed_ports(&mut migrator()).args(["migrate", "postgres", "--wait", "0s"]));
    assert!(!json_lines(&stderr).is_empty(), "{stderr}");
}

#[test]
fn log_level_flag_and_rust_log_filter_the_lines() {
    let Outcome { stderr, .. } = run(point_everything_at_closed_ports(&mut migrator())
        .env("RUST_LOG", "error")
        .args(["--log-format", "json", "migrate", "postgres", "--wait", "0s"]));
    assert!(json_lines(&stderr).iter().all(|line| line["level"] == "error"), "{stderr}");
    let Outcome { stderr, .. } = run(point_everything_at_closed_ports(&mut migrator())
        .env("RUST_LOG", "error")
        .args(["--log-format", "json", "--log-level", "info", "migrate", "postgres", "--wait", "0s"]));
    assert!(events(&json_lines(&stderr)).contains(&"migrator.started"), "--log-level wins over RUST_LOG: {stderr}");
}

#[test]
fn env_file_is_read_and_the_environment_wins_over_it() {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), "MIGRATE=disabled\nPOSTGRES_PORT=5432\n").expect("write env file");
    let env_file = file.path().to_str().expect("UTF-8 path");

    let Outcome { code, stdout, stderr } = run(migrator().args(["--env-file", env_file, "migrate"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("disabled"), "the file's MIGRATE was read: {stdout}");

    let Outcome { code, stderr, .. } = run(point_everything_at_closed_ports(&mut migrator())
        .env("MIGRATE", "enabled")
        .args(["--log-format", "json", "--env-file", env_file, "migrate", "postgres", "--wait", "0s"]));
    assert_eq!(code, Some(3), "the environment's MIGRATE wins: {stderr}");

    let Outcome { code, stderr, .. } = run(migrator().args(["--env-file", "/nonexistent/.env", "migrate"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.starts_with("error: cannot read env file `/nonexistent/.env`"), "{stderr}");
}

/// Each target on its own (fail-fast would stop a full run at the first), against closed ports,
/// with the sentinel as every password and debug logging on: it must appear nowhere. The
/// ClickHouse and Kafka runs leave PostgreSQL unconfigured, so that they reach their own server
/// rather than stopping at the run lock's; the PostgreSQL and indicator runs cover the lock.
#[test]
fn passwords_never_appear_in_any_output() {
    for target in ["postgres", "clickhouse", "kafka", "indicators"] {
        let reached = if target == "indicators" { "postgres" } else { target };
        for format in ["json", "text"] {
            let mut command = migrator();
            point_everything_at_closed_ports(&mut command);
            if matches!(target, "clickhouse" | "kafka") {
                command.env_remove("DATABASE_URL");
            } else {
                command.env("POSTGRES_PASSWORD", SENTINEL);
            }
            let Outcome { code, stdout, stderr } = run(command
                .env("CLICKHOUSE_PASSWORD", SENTINEL)
                .env("KAFKA_CONFIG", format!("sasl.username=app;sasl.password={SENTINEL}"))
                .args(["--log-format", format, "--log-level", "debug", "migrate", target, "--wait", "1s"])
                .args(["--kafka-config", "security.protocol=SASL_PLAINTEXT", "--kafka-config", "sasl.mechanism=PLAIN"])
                .args(["--kafka-config", &format!("sasl.password={SENTINEL}")]));
            assert_eq!(code, Some(3), "{target}: {stderr}");
            assert!(!stdout.contains(SENTINEL), "{target}: password on stdout: {stdout}");
            assert!(!stderr.contains(SENTINEL), "{target}: password on stderr: {stderr}");
            assert!(error_lines(&stderr)[0].starts_with(&format!("error: {reached} at ")), "{stderr}");
        }
    }
}

/// `status`, `check`, `plan` and the dry run print addresses and plans: the sentinel password, in
/// every credential, must appear in none of their output either.
#[test]
fn passwords_never_appear_in_status_check_plan_or_dry_run_output() {
    let commands: [&[&str]; 4] = [
        &["status", "--wait", "1s"],
        &["check", "--wait", "1s"],
        &["plan", "--sql"],
        &["migrate", "--dry-run", "--wait", "1s"],
    ];
    for args in commands {
        let Outcome { code, stdout, stderr } = run(point_everything_at_closed_ports(&mut migrator())
            .env("POSTGRES_PASSWORD", SENTINEL)
            .env("CLICKHOUSE_PASSWORD", SENTINEL)
            .env("KAFKA_CONFIG", format!("sasl.username=app;sasl.password={SENTINEL}"))
            .args(["--log-format", "json", "--log-level", "debug"])
            .args(args));
        assert!(code.is_some(), "{args:?}: {stderr}");
        assert!(!stdout.contains(SENTINEL), "{args:?}: password on stdout: {stdout}");
        assert!(!stderr.contains(SENTINEL), "{args:?}: password on stderr: {stderr}");
    }
}

/// librdkafka quotes property values in its configuration errors; this build has no OIDC, so
/// every OIDC user's `sasl.oauthbearer.client.secret` meets one. The error fails the run at once
/// (waiting cannot fix a setting), and the secret appears nowhere, at any log level.
#[test]
fn a_kafka_secret_quoted_by_librdkafka_never_appears_and_fails_at_once() {
    for format in ["json", "text"] {
        let started = Instant::now();
        let Outcome { code, stdout, stderr } = run(migrator()
            .env("KAFKA_BOOTSTRAP_SERVERS", format!("127.0.0.1:{}", closed_port()))
            .env(
                "KAFKA_CONFIG",
                format!(
                    "security.protocol=SASL_PLAINTEXT;sasl.mechanism=OAUTHBEARER;\
                     sasl.oauthbearer.client.secret={SENTINEL}"
                ),
            )
            .args(["--log-format", format, "--log-level", "trace", "migrate", "kafka", "--wait", "60s"]));
        assert_eq!(code, Some(3), "{stderr}");
        assert!(started.elapsed() < Duration::from_secs(30), "not retried for --wait: {:?}", started.elapsed());
        assert!(!stdout.contains(SENTINEL), "secret on stdout: {stdout}");
        assert!(!stderr.contains(SENTINEL), "secret on stderr: {stderr}");
        let error = error_lines(&stderr)[0];
        assert!(error.starts_with("error: kafka: cannot create a kafka admin client"), "{stderr}");
        assert!(error.contains("not retried"), "{error}");
        assert!(error.contains("sasl.oauthbearer.client.secret ***"), "librdkafka's error, masked: {error}");
    }
}

/// A password holding an unescaped `/`, `?` or `#` ends the URL's host part early; the rest of
/// it would be read as a path or query and shown. It is refused (exit 2) without being shown.
#[test]
fn an_unescaped_password_is_refused_without_being_shown() {
    for (variable, url) in [
        ("DATABASE_URL", format!("postgresql://app:{SENTINEL}/x@127.0.0.1:{}/trading", closed_port())),
        ("DATABASE_URL", format!("postgresql://app:{SENTINEL}?x@127.0.0.1:{}/trading", closed_port())),
        ("CLICKHOUSE_URL", format!("http://app:x/{SENTINEL}@127.0.0.1:{}/?database=trading", closed_port())),
    ] {
        let Outcome { code, stdout, stderr } =
            run(migrator().env(variable, &url).args(["--log-level", "debug", "migrate", "--wait", "1s"]));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("percent-encode the password"), "{stderr}");
        assert!(!stdout.contains(SENTINEL) && !stderr.contains(SENTINEL), "{url}: {stdout}{stderr}");
    }
}

#[test]
fn an_empty_clickhouse_database_or_an_unknown_migrate_value_exits_2_before_connecting() {
    let Outcome { code, stderr, .. } = run(point_everything_at_closed_ports(&mut migrator())
        .env("CLICKHOUSE_URL", format!("http://writer@127.0.0.1:{}/?database=", closed_port()))
        .args(["migrate", "clickhouse", "--wait", "30s"]));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("empty `?database=`"), "{stderr}");
    for value in ["enbaled", "yes"] {
        let Outcome { code, stdout, stderr } =
            run(point_everything_at_closed_ports(&mut migrator()).env("MIGRATE", value).args(["migrate"]));
        assert_eq!(code, Some(2), "{value}: {stderr}");
        assert!(stderr.contains(&format!("`MIGRATE` is `{value}`")), "{stderr}");
        assert!(!stdout.contains("skipped"), "never a silent skip: {stdout}");
    }
    let Outcome { code, stdout, stderr } =
        run(point_everything_at_closed_ports(&mut migrator()).env("MIGRATE", "FALSE").args(["migrate"]));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("disabled"), "{stdout}");
}
