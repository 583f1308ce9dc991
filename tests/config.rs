//! `Config::load`: every variable, every URL spelling, flags over variables, env files, bad
//! values rejected with their name, and passwords never printed. Nothing here connects.

use std::time::Duration;

use tradeforge_migrator::config::{
    is_credential_key, Config, ConfigError, Environment, MigrateSwitch, Overrides, Secret,
};

const SENTINEL: &str = "S3ntinel-pw-7c1e";

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::load(&Environment::from_pairs(pairs.iter().copied()), &Overrides::default())
}

fn load_ok(pairs: &[(&str, &str)]) -> Config {
    load(pairs).unwrap_or_else(|error| panic!("{pairs:?} should load: {error}"))
}

fn load_err(pairs: &[(&str, &str)]) -> String {
    match load(pairs) {
        Ok(config) => panic!("{pairs:?} should be rejected, got {config:?}"),
        Err(error) => error.to_string(),
    }
}

fn with_flags(pairs: &[(&str, &str)], overrides: Overrides) -> Result<Config, ConfigError> {
    Config::load(&Environment::from_pairs(pairs.iter().copied()), &overrides)
}

// --- defaults -------------------------------------------------------------------------------

#[test]
fn empty_environment_gives_the_seed_defaults() {
    let config = load_ok(&[]);
    assert_eq!(config.postgres.host, "localhost");
    assert_eq!(config.postgres.port, 5432);
    assert_eq!(config.postgres.database, "trading_users");
    assert_eq!(config.postgres.user, "postgres");
    assert_eq!(config.postgres.password.expose(), "postgres");
    assert!(config.postgres.params.is_empty());
    assert_eq!(config.clickhouse.url, "http://localhost:8123");
    assert_eq!(config.clickhouse.user, "default");
    assert!(config.clickhouse.password.is_empty());
    assert_eq!(config.clickhouse.database, "default");
    assert_eq!(config.kafka.bootstrap_servers, "localhost:9092");
    assert!(config.kafka.properties.is_empty());
    assert_eq!(config.wait, Duration::from_secs(60));
}

#[test]
fn empty_variables_count_as_unset() {
    let config = load_ok(&[("POSTGRES_HOST", ""), ("POSTGRES_PORT", ""), ("DATABASE_URL", ""), ("CLICKHOUSE_URL", "")]);
    assert_eq!(config.postgres.host, "localhost");
    assert_eq!(config.postgres.port, 5432);
    assert_eq!(config.clickhouse.url, "http://localhost:8123");
}

// --- PostgreSQL -----------------------------------------------------------------------------

#[test]
fn postgres_variables_are_read() {
    let config = load_ok(&[
        ("POSTGRES_HOST", "db.internal"),
        ("POSTGRES_PORT", "6543"),
        ("POSTGRES_DB", "trading"),
        ("POSTGRES_USER", "app"),
        ("POSTGRES_PASSWORD", SENTINEL),
    ]);
    assert_eq!(config.postgres.describe(), "postgres://app@db.internal:6543/trading");
    assert_eq!(config.postgres.password.expose(), SENTINEL);
}

#[test]
fn every_database_url_spelling_is_accepted() {
    for scheme in ["postgres", "postgresql", "postgresql+asyncpg", "postgresql+psycopg", "postgresql+psycopg2"] {
        let url = format!("{scheme}://app:pw@db:6543/trading");
        let config = load_ok(&[("DATABASE_URL", &url)]);
        assert_eq!(config.postgres.describe(), "postgres://app@db:6543/trading", "{scheme}");
        assert_eq!(config.postgres.password.expose(), "pw", "{scheme}");
    }
}

#[test]
fn database_url_user_password_and_database_are_percent_decoded() {
    let config = load_ok(&[("DATABASE_URL", "postgresql+asyncpg://us%3Aer:p%40ss%2Fw%C3%B6rd@db/my%20db")]);
    assert_eq!(config.postgres.user, "us:er");
    assert_eq!(config.postgres.password.expose(), "p@ss/wörd");
    assert_eq!(config.postgres.database, "my db");
}

#[test]
fn database_url_query_parameters_are_kept_and_libpq_parts_applied() {
    let config = load_ok(&[(
        "DATABASE_URL",
        "postgres://app@db/trading?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=migrator&password=from-query",
    )]);
    assert_eq!(
        config.postgres.params,
        vec![
            ("sslmode".to_owned(), "verify-full".to_owned()),
            ("sslrootcert".to_owned(), "/etc/ca.pem".to_owned()),
            ("application_name".to_owned(), "migrator".to_owned()),
        ]
    );
    assert_eq!(config.postgres.password.expose(), "from-query");
}

#[test]
fn unknown_database_url_parameter_is_rejected_without_its_value() {
    let message = load_err(&[("DATABASE_URL", &format!("postgres://app@db/trading?sslpassword={SENTINEL}"))]);
    assert!(message.starts_with("`DATABASE_URL` has the query parameter `sslpassword`, which the migrator does not use; supported: sslmode,"), "{message}");
    assert!(!message.contains(SENTINEL), "{message}");
}

#[test]
fn database_url_socket_directory_as_host_parameter() {
    let config = load_ok(&[("DATABASE_URL", "postgres:///trading?host=/var/run/postgresql")]);
    assert_eq!(config.postgres.host, "/var/run/postgresql");
    assert_eq!(config.postgres.database, "trading");
}

#[test]
fn parts_missing_from_database_url_come_from_the_postgres_variables() {
    let config = load_ok(&[
        ("DATABASE_URL", "postgres://app@db.internal/trading"),
        ("POSTGRES_PASSWORD", SENTINEL),
        ("POSTGRES_PORT", "6000"),
        ("POSTGRES_HOST", "ignored-because-the-url-has-one"),
    ]);
    assert_eq!(config.postgres.describe(), "postgres://app@db.internal:6000/trading");
    assert_eq!(config.postgres.password.expose(), SENTINEL);
}

#[test]
fn database_url_with_ipv6_host() {
    let config = load_ok(&[("DATABASE_URL", "postgres://app:pw@[::1]:5433/trading")]);
    assert_eq!(config.postgres.host, "::1");
    assert_eq!(config.postgres.port, 5433);
}

#[test]
fn database_url_flag_wins_over_the_variable() {
    let overrides =
        Overrides { database_url: Some("postgres://flag@flag-host/flag_db".into()), ..Overrides::default() };
    let config = with_flags(&[("DATABASE_URL", "postgres://env@env-host/env_db")], overrides).expect("valid");
    assert_eq!(config.postgres.describe(), "postgres://flag@flag-host:5432/flag_db");
}

#[test]
fn unknown_database_url_scheme_is_rejected_naming_the_variable() {
    let message = load_err(&[("DATABASE_URL", &format!("mysql://app:{SENTINEL}@db/trading"))]);
    assert!(message.starts_with("`DATABASE_URL` has the scheme `mysql`; expected"), "{message}");
    assert!(!message.contains(SENTINEL), "{message}");
}

#[test]
fn unparseable_database_url_is_rejected_without_echoing_it() {
    let message = load_err(&[("DATABASE_URL", &format!("app:{SENTINEL}@db"))]);
    assert!(message.starts_with("`DATABASE_URL` "), "{message}");
    assert!(!message.contains(SENTINEL), "{message}");
}

#[test]
fn database_url_port_out_of_range_is_rejected() {
    for url in ["postgres://app:pw@db:70000/trading", "postgres://app:pw@db:0/trading", "postgres://app@db:abc/x"] {
        let message = load_err(&[("DATABASE_URL", url)]);
        assert!(message.starts_with("`DATABASE_URL` "), "{url}: {message}");
        assert!(message.contains("port"), "{url}: {message}");
    }
}

#[test]
fn bad_postgres_port_names_the_variable() {
    for value in ["abc", "70000", "0", "-1", "54 32"] {
        let message = load_err(&[("POSTGRES_PORT", value)]);
        // The value is not echoed: a port variable swapped with a password variable would print it.
        assert_eq!(message, "`POSTGRES_PORT` must be a port number from 1 to 65535", "{value}");
    }
}

#[test]
fn bad_port_flag_is_blamed_on_the_flag() {
    let overrides = Overrides { database_url: Some("postgres://db:99999/x".into()), ..Overrides::default() };
    let message = with_flags(&[], overrides).expect_err("bad port").to_string();
    assert!(message.starts_with("`--database-url` "), "{message}");
}

// --- ClickHouse -----------------------------------------------------------------------------

#[test]
fn clickhouse_variables_are_read() {
    let config = load_ok(&[
        ("CLICKHOUSE_HOST", "ch"),
        ("CLICKHOUSE_PORT", "18123"),
        ("CLICKHOUSE_USER", "writer"),
        ("CLICKHOUSE_PASSWORD", SENTINEL),
        ("CLICKHOUSE_DB", "trading"),
    ]);
    assert_eq!(config.clickhouse.url, "http://ch:18123");
    assert_eq!(config.clickhouse.describe(), "http://writer@ch:18123/trading");
    assert_eq!(config.clickhouse.password.expose(), SENTINEL);
}

#[test]
fn clickhouse_url_with_credentials_and_database() {
    let config = load_ok(&[("CLICKHOUSE_URL", "https://wri%40ter:p%3Bw@ch.example:8443/?database=trading")]);
    assert_eq!(config.clickhouse.url, "https://ch.example:8443");
    assert_eq!(config.clickhouse.user, "wri@ter");
    assert_eq!(config.clickhouse.password.expose(), "p;w");
    assert_eq!(config.clickhouse.database, "trading");
}

#[test]
fn clickhouse_url_without_port_uses_the_scheme_default() {
    assert_eq!(load_ok(&[("CLICKHOUSE_URL", "http://ch")]).clickhouse.url, "http://ch:80");
    assert_eq!(load_ok(&[("CLICKHOUSE_URL", "https://ch")]).clickhouse.url, "https://ch:443");
}

#[test]
fn clickhouse_database_from_url_wins_over_clickhouse_db() {
    let config = load_ok(&[("CLICKHOUSE_URL", "http://ch:8123/?database=from_url"), ("CLICKHOUSE_DB", "from_var")]);
    assert_eq!(config.clickhouse.database, "from_url");
    let config = load_ok(&[("CLICKHOUSE_URL", "http://ch:8123"), ("CLICKHOUSE_DB", "from_var")]);
    assert_eq!(config.clickhouse.database, "from_var");
}

#[test]
fn clickhouse_credentials_missing_from_url_come_from_the_variables() {
    let config = load_ok(&[
        ("CLICKHOUSE_URL", "http://ch:8123"),
        ("CLICKHOUSE_USER", "writer"),
        ("CLICKHOUSE_PASSWORD", SENTINEL),
        ("CLICKHOUSE_HOST", "ignored"),
    ]);
    assert_eq!(config.clickhouse.describe(), "http://writer@ch:8123/default");
    assert_eq!(config.clickhouse.password.expose(), SENTINEL);
}

#[test]
fn clickhouse_url_flag_wins_over_the_variable() {
    let overrides = Overrides { clickhouse_url: Some("http://flag:1/?database=f".into()), ..Overrides::default() };
    let config = with_flags(&[("CLICKHOUSE_URL", "http://env:2")], overrides).expect("valid");
    assert_eq!(config.clickhouse.describe(), "http://default@flag:1/f");
}

#[test]
fn clickhouse_native_scheme_is_rejected() {
    let message = load_err(&[("CLICKHOUSE_URL", "clickhouse://ch:9000/trading")]);
    assert!(message.starts_with("`CLICKHOUSE_URL` has the scheme `clickhouse`; expected `http://"), "{message}");
}

#[test]
fn clickhouse_url_path_and_unknown_parameters_are_rejected() {
    let message = load_err(&[("CLICKHOUSE_URL", "http://ch:8123/trading")]);
    assert!(message.contains("`?database=name`"), "{message}");
    let message = load_err(&[("CLICKHOUSE_URL", "http://ch:8123/?db=trading")]);
    assert!(message.contains("unknown query parameter `db`"), "{message}");
}

#[test]
fn bad_clickhouse_port_names_the_variable() {
    let message = load_err(&[("CLICKHOUSE_PORT", "http")]);
    assert_eq!(message, "`CLICKHOUSE_PORT` must be a port number from 1 to 65535");
    let message = load_err(&[("CLICKHOUSE_PORT", SENTINEL)]);
    assert!(!message.contains(SENTINEL), "{message}");
    let message = load_err(&[("CLICKHOUSE_URL", &format!("http://u:{SENTINEL}@ch:123456"))]);
    assert!(message.starts_with("`CLICKHOUSE_URL` has a port"), "{message}");
    assert!(!message.contains(SENTINEL), "{message}");
}

// --- Kafka ----------------------------------------------------------------------------------

#[test]
fn kafka_bootstrap_servers_from_variable_and_flag() {
    let config = load_ok(&[("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9093")]);
    assert_eq!(config.kafka.bootstrap_servers, "k1:9092,k2:9093");
    let overrides = Overrides { kafka_bootstrap_servers: Some("flag:9092".into()), ..Overrides::default() };
    let config = with_flags(&[("KAFKA_BOOTSTRAP_SERVERS", "env:9092")], overrides).expect("valid");
    assert_eq!(config.kafka.bootstrap_servers, "flag:9092");
}

#[test]
fn kafka_bootstrap_servers_accept_the_librdkafka_forms() {
    for servers in ["kafka", "kafka:9092", "SASL_SSL://kafka:9093", "[::1]:9092,[::1]", "10.0.0.1:9092, 10.0.0.2:9092"]
    {
        load_ok(&[("KAFKA_BOOTSTRAP_SERVERS", servers)]);
    }
}

#[test]
fn bad_kafka_bootstrap_servers_are_rejected_naming_the_variable() {
    let message = load_err(&[("KAFKA_BOOTSTRAP_SERVERS", "kafka:90920")]);
    assert_eq!(message, "`KAFKA_BOOTSTRAP_SERVERS` must be a port number from 1 to 65535");
    let message = load_err(&[("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,,k2:9092")]);
    assert!(message.starts_with("`KAFKA_BOOTSTRAP_SERVERS`: has an empty entry"), "{message}");
    let overrides = Overrides { kafka_bootstrap_servers: Some(":9092".into()), ..Overrides::default() };
    let message = with_flags(&[], overrides).expect_err("no host").to_string();
    assert!(message.starts_with("`--kafka-bootstrap-servers`: `:9092` has no host"), "{message}");
}

#[test]
fn kafka_config_flags_become_properties_in_order() {
    let overrides = Overrides {
        kafka_config: vec![
            "security.protocol=SASL_SSL".into(),
            format!("sasl.password={SENTINEL}=x"),
            "client.id=".into(),
        ],
        ..Overrides::default()
    };
    let config = with_flags(&[], overrides).expect("valid");
    let properties: Vec<(&str, &str)> =
        config.kafka.properties.iter().map(|(key, value)| (key.as_str(), value.expose())).collect();
    let expected_password = format!("{SENTINEL}=x");
    assert_eq!(
        properties,
        [("security.protocol", "SASL_SSL"), ("sasl.password", expected_password.as_str()), ("client.id", "")]
    );
}

#[test]
fn kafka_config_variable_is_split_and_flags_win_key_by_key() {
    let overrides = Overrides { kafka_config: vec!["sasl.mechanism=SCRAM-SHA-512".into()], ..Overrides::default() };
    let config = with_flags(
        &[("KAFKA_CONFIG", "security.protocol=SASL_SSL; sasl.mechanism=PLAIN\nsasl.username=app\n")],
        overrides,
    )
    .expect("valid");
    let properties: Vec<(&str, &str)> =
        config.kafka.properties.iter().map(|(key, value)| (key.as_str(), value.expose())).collect();
    assert_eq!(
        properties,
        [("security.protocol", "SASL_SSL"), ("sasl.username", "app"), ("sasl.mechanism", "SCRAM-SHA-512")]
    );
}

#[test]
fn kafka_config_without_equals_is_rejected_without_echoing_it() {
    let overrides =
        Overrides { kafka_config: vec!["acks=all".into(), format!("sasl.password{SENTINEL}")], ..Overrides::default() };
    let message = with_flags(&[], overrides).expect_err("no `=`").to_string();
    assert!(message.starts_with("`--kafka-config` entry 2 has no `=`"), "{message}");
    assert!(!message.contains(SENTINEL), "{message}");
    let message = load_err(&[("KAFKA_CONFIG", "=value")]);
    assert!(message.starts_with("`KAFKA_CONFIG` entry 1 has an empty key"), "{message}");
}

#[test]
fn kafka_config_cannot_set_the_brokers() {
    let overrides = Overrides { kafka_config: vec!["bootstrap.servers=k:9092".into()], ..Overrides::default() };
    let message = with_flags(&[], overrides).expect_err("brokers").to_string();
    assert!(message.contains("`--kafka-bootstrap-servers`"), "{message}");
}

#[test]
fn kafka_describe_hides_credential_values() {
    let overrides = Overrides {
        kafka_config: vec![
            "security.protocol=SASL_SSL".into(),
            "sasl.username=app".into(),
            format!("sasl.password={SENTINEL}"),
            format!("sasl.jaas.config=x password=\"{SENTINEL}\""),
        ],
        ..Overrides::default()
    };
    let config = with_flags(&[("KAFKA_BOOTSTRAP_SERVERS", "k:9092")], overrides).expect("valid");
    assert_eq!(
        config.kafka.describe(),
        "kafka://k:9092 (security.protocol=SASL_SSL, sasl.username=app, sasl.password=***, sasl.jaas.config=***)"
    );
    for key in
        ["sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret", "ssl.key.pem"]
    {
        assert!(is_credential_key(key), "{key}");
    }
    assert!(!is_credential_key("security.protocol"));
}

// --- --wait ---------------------------------------------------------------------------------

#[test]
fn wait_accepts_humantime_durations() {
    for (text, expected) in [("60s", 60), ("2m", 120), ("1m 30s", 90), ("0s", 0)] {
        let overrides = Overrides { wait: Some(text.into()), ..Overrides::default() };
        assert_eq!(with_flags(&[], overrides).expect("valid").wait, Duration::from_secs(expected), "{text}");
    }
}

#[test]
fn bad_wait_names_the_flag() {
    for text in ["60", "soon", "5x"] {
        let overrides = Overrides { wait: Some(text.into()), ..Overrides::default() };
        let message = with_flags(&[], overrides).expect_err("bad duration").to_string();
        assert!(message.starts_with("`--wait` is not a duration"), "{text}: {message}");
    }
}

// --- MIGRATE --------------------------------------------------------------------------------

#[test]
fn migrate_runs_when_unset_enabled_or_true_skips_when_disabled_or_false_and_refuses_the_rest() {
    let switch =
        |pairs: &[(&str, &str)]| MigrateSwitch::from_environment(&Environment::from_pairs(pairs.iter().copied()));
    assert_eq!(switch(&[]).expect("ok"), MigrateSwitch::Enabled);
    assert_eq!(switch(&[("MIGRATE", "")]).expect("ok"), MigrateSwitch::Enabled);
    for value in ["enabled", "ENABLED", "Enabled", "true", "TRUE"] {
        assert_eq!(switch(&[("MIGRATE", value)]).expect("ok"), MigrateSwitch::Enabled, "{value}");
    }
    for value in ["disabled", "DISABLED", "false", "False"] {
        assert_eq!(switch(&[("MIGRATE", value)]).expect("ok"), MigrateSwitch::Disabled(value.to_owned()));
    }
    // A typo or a guess must not silently skip a deploy's migrations.
    for value in ["enbaled", "yes", "0", "on"] {
        let message = switch(&[("MIGRATE", value)]).expect_err("refused").to_string();
        assert!(message.starts_with(&format!("`MIGRATE` is `{value}`; write `enabled` or `true`")), "{message}");
    }
}

// --- bounds ---------------------------------------------------------------------------------

#[test]
fn bounds_have_defaults_and_read_flags_over_variables() {
    let config = load_ok(&[]);
    assert_eq!(config.postgres.bounds.migration_lock_timeout, Some(Duration::from_secs(10)));
    assert_eq!(config.postgres.bounds.statement_timeout, None);
    assert_eq!(config.postgres.bounds.io_timeout, Duration::from_secs(30));
    assert_eq!(config.clickhouse.bounds, config.postgres.bounds);
    let config = load_ok(&[
        ("MIGRATOR_MIGRATION_LOCK_TIMEOUT", "0s"),
        ("MIGRATOR_STATEMENT_TIMEOUT", "1h"),
        ("MIGRATOR_IO_TIMEOUT", "2m"),
    ]);
    assert_eq!(config.postgres.bounds.migration_lock_timeout, None, "0s: no limit");
    assert_eq!(config.postgres.bounds.statement_timeout, Some(Duration::from_secs(3600)));
    assert_eq!(config.clickhouse.bounds.io_timeout, Duration::from_secs(120));
    let overrides = Overrides {
        migration_lock_timeout: Some("30s".into()),
        statement_timeout: Some("0s".into()),
        io_timeout: Some("5s".into()),
        ..Overrides::default()
    };
    let config =
        with_flags(&[("MIGRATOR_STATEMENT_TIMEOUT", "1h"), ("MIGRATOR_IO_TIMEOUT", "2m")], overrides).expect("valid");
    assert_eq!(config.postgres.bounds.migration_lock_timeout, Some(Duration::from_secs(30)));
    assert_eq!(config.postgres.bounds.statement_timeout, None);
    assert_eq!(config.postgres.bounds.io_timeout, Duration::from_secs(5));
}

#[test]
fn bad_bounds_name_their_setting() {
    let message = load_err(&[("MIGRATOR_MIGRATION_LOCK_TIMEOUT", "soon")]);
    assert!(message.starts_with("`MIGRATOR_MIGRATION_LOCK_TIMEOUT` is not a duration"), "{message}");
    let message = load_err(&[("MIGRATOR_IO_TIMEOUT", "0s")]);
    assert!(message.starts_with("`MIGRATOR_IO_TIMEOUT` is not a duration (it must be more than 0s"), "{message}");
    let overrides = Overrides { io_timeout: Some("0s".into()), ..Overrides::default() };
    let message = with_flags(&[], overrides).expect_err("zero").to_string();
    assert!(message.starts_with("`--io-timeout`"), "{message}");
}

// --- URLs that would leak or mislead ----------------------------------------------------------

#[test]
fn a_password_with_an_unescaped_slash_or_question_mark_is_refused_without_echoing_it() {
    for variable in ["DATABASE_URL", "MIGRATOR_LOCK_DATABASE_URL", "CLICKHOUSE_URL"] {
        let scheme = if variable == "CLICKHOUSE_URL" { "http" } else { "postgres" };
        for password in
            [format!("{SENTINEL}/x"), format!("x/{SENTINEL}"), format!("{SENTINEL}?x"), format!("a#{SENTINEL}")]
        {
            let url = format!("{scheme}://app:{password}@db:5432/trading");
            let message = load_err(&[(variable, &url)]);
            assert!(message.starts_with(&format!("`{variable}` has an `@` after its host part")), "{message}");
            assert!(message.contains("percent-encode the password"), "{message}");
            assert!(!message.contains(SENTINEL), "{url}: {message}");
        }
    }
    let encoded = format!("postgres://app:{}%2Fx%3Fy@db:5432/trading", SENTINEL);
    assert_eq!(load_ok(&[("DATABASE_URL", &encoded)]).postgres.password.expose(), format!("{SENTINEL}/x?y"));
}

#[test]
fn an_empty_or_system_clickhouse_database_is_refused() {
    let message = load_err(&[("CLICKHOUSE_URL", "http://ch:8123/?database=")]);
    assert!(message.starts_with("`CLICKHOUSE_URL` has an empty `?database=`"), "{message}");
    for system in ["system", "SYSTEM"] {
        let message = load_err(&[("CLICKHOUSE_URL", &format!("http://ch:8123/?database={system}"))]);
        assert!(message.starts_with("`CLICKHOUSE_URL` names the database `system`"), "{message}");
    }
    let message = load_err(&[("CLICKHOUSE_DB", "system")]);
    assert!(message.starts_with("`CLICKHOUSE_DB` names the database `system`"), "{message}");
    let message = load_err(&[("DATABASE_URL", "postgres://db/x?dbname=")]);
    assert!(message.starts_with("`DATABASE_URL` has an empty `?dbname=`"), "{message}");
}

#[test]
fn kafka_messages_are_masked_of_every_credential_value() {
    let config = load_ok(&[(
        "KAFKA_CONFIG",
        &format!("sasl.username=app;sasl.oauthbearer.client.secret={SENTINEL};ssl.key.password=k3y-{SENTINEL}"),
    )]);
    let librdkafka = format!(
        "Client config error: Unsupported value \"{SENTINEL}\" for configuration property \
         \"sasl.oauthbearer.client.secret\"; also k3y-{SENTINEL} for app"
    );
    let masked = config.kafka.mask(&librdkafka);
    assert!(!masked.contains(SENTINEL), "{masked}");
    assert!(masked.contains("sasl.oauthbearer.client.secret") && masked.contains("for app"), "{masked}");
}

// --- env files ------------------------------------------------------------------------------

fn env_file(contents: &str) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), contents).expect("write env file");
    file
}

#[test]
fn env_file_fills_what_the_environment_does_not_set() {
    let file = env_file(
        "# comment\nPOSTGRES_HOST=from-file\nexport POSTGRES_DB=\"file db\"\nCLICKHOUSE_URL='http://ch:8123/?database=x'\nPOSTGRES_HOST=second-definition-ignored\n",
    );
    let mut environment = Environment::from_pairs([("POSTGRES_DB", "from-env")]);
    environment.add_env_file(file.path()).expect("valid file");
    let config = Config::load(&environment, &Overrides::default()).expect("valid");
    assert_eq!(config.postgres.host, "from-file");
    assert_eq!(config.postgres.database, "from-env");
    assert_eq!(config.clickhouse.database, "x");
}

#[test]
fn env_file_with_a_byte_order_mark_is_read() {
    let file = env_file("\u{feff}POSTGRES_HOST=bom-host\n");
    let mut environment = Environment::default();
    environment.add_env_file(file.path()).expect("valid file");
    assert_eq!(environment.get("POSTGRES_HOST").expect("unicode"), Some("bom-host"));
}

#[test]
fn missing_env_file_names_the_path() {
    let mut environment = Environment::default();
    let message = environment.add_env_file("/nonexistent/dir/.env".as_ref()).expect_err("missing").to_string();
    assert!(message.starts_with("cannot read env file `/nonexistent/dir/.env`: "), "{message}");
    assert!(message.contains("`--env-file`"), "{message}");
}

#[test]
fn env_file_syntax_error_names_the_line_and_variable_but_not_the_value() {
    let file = env_file(&format!("POSTGRES_HOST=db\nPOSTGRES_PASSWORD='{SENTINEL}\n"));
    let mut environment = Environment::default();
    let message = environment.add_env_file(file.path()).expect_err("unterminated quote").to_string();
    assert!(message.contains("line 2 (`POSTGRES_PASSWORD`)"), "{message}");
    assert!(!message.contains(SENTINEL), "{message}");
}

// --- secrets --------------------------------------------------------------------------------

#[test]
fn secret_prints_as_stars() {
    let secret = Secret::new(SENTINEL);
    assert_eq!(format!("{secret}"), "***");
    assert_eq!(format!("{secret:?}"), "***");
    assert_eq!(secret.expose(), SENTINEL);
}

#[test]
fn no_config_form_for_people_shows_a_password() {
    let overrides = Overrides { kafka_config: vec![format!("sasl.password={SENTINEL}")], ..Overrides::default() };
    let config = with_flags(
        &[
            ("DATABASE_URL", &format!("postgresql+asyncpg://app:{SENTINEL}@db/trading?sslmode=require")),
            ("CLICKHOUSE_URL", &format!("http://writer:{SENTINEL}@ch:8123")),
        ],
        overrides,
    )
    .expect("valid");
    for shown in [
        format!("{config:?}"),
        format!("{config:#?}"),
        config.postgres.describe(),
        config.clickhouse.describe(),
        config.kafka.describe(),
    ] {
        assert!(!shown.contains(SENTINEL), "{shown}");
    }
    assert_eq!(config.postgres.password.expose(), SENTINEL);
    assert_eq!(config.clickhouse.password.expose(), SENTINEL);
}
