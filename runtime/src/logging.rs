//! Log lines on stderr: one JSON object per line for machines, or readable text for people.
//!
//! # Convention for log events
//!
//! Every event names what happened in an `event` field, `<prefix>.<what>` with the target's
//! prefix from [`TargetName::event_prefix`](crate::targets::TargetName::event_prefix), and carries
//! the target and the datum as fields; the message is a short sentence for people:
//!
//! ```
//! # let started = std::time::Instant::now();
//! tracing::info!(
//!     event = "postgresql_migrator.migration_finished",
//!     target = "postgres",
//!     version = 3,
//!     duration_ms = started.elapsed().as_millis() as u64,
//!     "applied V3 add_orders"
//! );
//! ```
//!
//! `target = "…"` (with `=`) is an ordinary field here; tracing's own `target:` metadata (the
//! module path) is not written. Use `duration_ms` for durations, `version` for migration
//! versions, `topic` and `indicator` for names. Never log a [`Secret`](crate::config::Secret)'s
//! `expose()`; log a config's `describe()` for an address. The keys `timestamp`, `level` and
//! `service` are set by this module; fields of those names are dropped.
//!
//! # Formats
//!
//! JSON (`--log-format json`), one object per line, keys in this order:
//!
//! ```text
//! {"timestamp":"2025-11-21T06:30:00.123Z","level":"info","event":"postgresql_migrator.migration_finished","service":"migrator","target":"postgres","version":3,"duration_ms":12,"message":"applied V3 add_orders"}
//! ```
//!
//! `timestamp` is RFC 3339 in UTC with milliseconds, `level` is lowercase, span fields come
//! before the event's own. An event without an `event` field (from a library) is named by its
//! tracing target, e.g. `sqlx::query`.
//!
//! Text (`--log-format text`), the message first and the fields after it:
//!
//! ```text
//! 2025-11-21T06:30:00.123Z  INFO applied V3 add_orders  event=postgresql_migrator.migration_finished target=postgres version=3 duration_ms=12
//! ```
//!
//! `--log-format auto` (the default) writes text when stderr is a terminal, JSON otherwise. Text
//! on a terminal is coloured unless `NO_COLOR` is set.
//! The level filter comes from `--log-level`, else `RUST_LOG`, else `info`, in `EnvFilter`
//! syntax (`debug`, `info,sqlx=warn`).

use std::io::{IsTerminal, Write};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{span, Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The `service` of every JSON line.
pub const SERVICE: &str = "migrator";

/// The filter used when neither `--log-level` nor `RUST_LOG` is set.
pub const DEFAULT_FILTER: &str = "info";

/// `--log-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Text when stderr is a terminal, JSON otherwise.
    #[default]
    Auto,
    /// One JSON object per line.
    Json,
    /// Readable lines.
    Text,
}

/// A log setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    #[error("`{setting}` is not a valid log filter ({reason}); write a level like `info` or `debug`, or directives like `info,sqlx=warn`")]
    InvalidFilter { setting: &'static str, reason: String },
    #[error("cannot install the logger: {reason}")]
    AlreadyInstalled { reason: String },
}

/// The level filter and where it came from, for the error message.
#[derive(Clone, Debug)]
pub struct FilterSetting {
    /// `--log-level`, `RUST_LOG` or `default`.
    pub setting: &'static str,
    pub directives: String,
}

impl FilterSetting {
    /// `--log-level` if given, else `RUST_LOG` if set, else [`DEFAULT_FILTER`].
    pub fn choose(flag: Option<&str>, rust_log: Option<&str>) -> Self {
        match (flag, rust_log) {
            (Some(flag), _) => FilterSetting { setting: "--log-level", directives: flag.to_owned() },
            (None, Some(variable)) => FilterSetting { setting: "RUST_LOG", directives: variable.to_owned() },
            (None, None) => FilterSetting { setting: "default", directives: DEFAULT_FILTER.to_owned() },
        }
    }

    fn build(&self) -> Result<EnvFilter, LoggingError> {
        EnvFilter::try_new(&self.directives)
            .map_err(|error| LoggingError::InvalidFilter { setting: self.setting, reason: error.to_string() })
    }
}

/// Installs the global logger writing to stderr.
pub fn init(format: LogFormat, filter: &FilterSetting) -> Result<(), LoggingError> {
    let filter = filter.build()?;
    // Colour is for terminals, and off when `NO_COLOR` is set (https://no-color.org).
    let colour = std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let style = Style::resolve(format, std::io::stderr().is_terminal(), colour);
    tracing_subscriber::registry()
        .with(filter)
        .with(LogLayer::new(style, std::io::stderr))
        .try_init()
        .map_err(|error| LoggingError::AlreadyInstalled { reason: error.to_string() })
}

/// The resolved output form of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Json,
    Text { colour: bool },
}

impl Style {
    /// `auto` picks text on a terminal and JSON elsewhere (a log collector); text is coloured
    /// when `colour` allows it.
    pub fn resolve(format: LogFormat, stderr_is_terminal: bool, colour: bool) -> Style {
        match format {
            LogFormat::Json => Style::Json,
            LogFormat::Text => Style::Text { colour: stderr_is_terminal && colour },
            LogFormat::Auto if stderr_is_terminal => Style::Text { colour },
            LogFormat::Auto => Style::Json,
        }
    }
}

/// The `tracing_subscriber` layer that writes our lines; generic over the writer so tests can
/// capture them.
pub struct LogLayer<W> {
    style: Style,
    make_writer: W,
}

impl<W> LogLayer<W> {
    pub fn new(style: Style, make_writer: W) -> Self {
        LogLayer { style, make_writer }
    }
}

/// Fields recorded on a span, kept in its extensions for the events inside it.
#[derive(Default)]
struct SpanFields(Vec<(String, Value)>);

impl<S, W> Layer<S> for LogLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attributes: &span::Attributes<'_>, id: &span::Id, context: Context<'_, S>) {
        let mut fields = FieldCollector::default();
        attributes.record(&mut fields);
        if let Some(span) = context.span(id) {
            span.extensions_mut().insert(SpanFields(fields.fields));
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, context: Context<'_, S>) {
        let Some(span) = context.span(id) else { return };
        let mut fields = FieldCollector::default();
        values.record(&mut fields);
        let mut extensions = span.extensions_mut();
        match extensions.get_mut::<SpanFields>() {
            Some(existing) => existing.0.extend(fields.fields),
            None => extensions.insert(SpanFields(fields.fields)),
        }
    }

    fn on_event(&self, event: &Event<'_>, context: Context<'_, S>) {
        let mut record = LogRecord::new(*event.metadata().level(), event.metadata().target());
        if let Some(scope) = context.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    record.fields.extend(fields.0.iter().cloned());
                }
            }
        }
        let mut fields = FieldCollector::default();
        event.record(&mut fields);
        record.absorb(fields);
        let line = match self.style {
            Style::Json => record.to_json(),
            Style::Text { colour } => record.to_text(colour),
        };
        // A log line that cannot be written has nowhere else to go.
        let _ = self.make_writer.make_writer_for(event.metadata()).write_all(line.as_bytes());
    }
}

/// One event, ready to be written.
#[derive(Debug)]
struct LogRecord {
    timestamp: String,
    level: Level,
    event: String,
    message: Option<String>,
    fields: Vec<(String, Value)>,
}

impl LogRecord {
    fn new(level: Level, tracing_target: &str) -> Self {
        LogRecord {
            timestamp: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            level,
            event: tracing_target.to_owned(),
            message: None,
            fields: Vec::new(),
        }
    }

    /// Takes `event` and `message` out of the event's fields; a `log`-crate record names its
    /// event by its `log.target`, and its other `log.*` fields are noise.
    fn absorb(&mut self, collected: FieldCollector) {
        let mut named = false;
        for (name, value) in collected.fields {
            match name.as_str() {
                "event" => {
                    self.event = value_text(&value);
                    named = true;
                }
                "message" => self.message = Some(value_text(&value)),
                "log.target" if !named => self.event = value_text(&value),
                "timestamp" | "level" | "service" => {}
                other if other.starts_with("log.") => {}
                _ => self.fields.push((name, value)),
            }
        }
    }

    fn to_json(&self) -> String {
        let mut object = Map::new();
        object.insert("timestamp".into(), Value::String(self.timestamp.clone()));
        object.insert("level".into(), Value::String(self.level.as_str().to_ascii_lowercase()));
        object.insert("event".into(), Value::String(self.event.clone()));
        object.insert("service".into(), Value::String(SERVICE.into()));
        for (name, value) in &self.fields {
            object.insert(name.clone(), value.clone());
        }
        // Every line has a message, so a collector's schema can rely on it.
        let message = self.message.clone().unwrap_or_else(|| self.event.clone());
        object.insert("message".into(), Value::String(message));
        let mut line = Value::Object(object).to_string();
        line.push('\n');
        line
    }

    fn to_text(&self, colour: bool) -> String {
        let level = format!("{:>5}", self.level.as_str());
        let level = if colour { format!("\x1b[{}m{level}\x1b[0m", level_colour(self.level)) } else { level };
        let mut line = format!("{}  {level} {}", self.timestamp, self.message.as_deref().unwrap_or(""));
        line.push_str(&format!("  event={}", self.event));
        for (name, value) in &self.fields {
            line.push_str(&format!(" {name}={}", text_value(value)));
        }
        // One event is one line, even when a message or error spans several.
        let mut line = line.replace('\n', " ");
        line.push('\n');
        line
    }
}

fn level_colour(level: Level) -> &'static str {
    match level {
        Level::ERROR => "31",
        Level::WARN => "33",
        Level::INFO => "32",
        Level::DEBUG => "34",
        Level::TRACE => "35",
    }
}

/// A string as itself, anything else as JSON.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A field value for the text form: bare when it is one word, quoted otherwise.
fn text_value(value: &Value) -> String {
    match value {
        Value::String(text) if !text.is_empty() && !text.contains([' ', '"', '=', '\n']) => text.clone(),
        Value::String(text) => format!("{text:?}"),
        other => other.to_string(),
    }
}

/// Turns tracing field values into JSON values, numbers and booleans kept as such.
#[derive(Default)]
struct FieldCollector {
    fields: Vec<(String, Value)>,
}

impl FieldCollector {
    fn push(&mut self, field: &Field, value: Value) {
        self.fields.push((field.name().to_owned(), value));
    }
}

impl Visit for FieldCollector {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value).map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.push(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, Value::String(value.to_owned()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, Value::String(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push(field, Value::String(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;

        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn capture(style: Style, emit: impl FnOnce()) -> String {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry().with(LogLayer::new(style, captured.clone()));
        tracing::subscriber::with_default(subscriber, emit);
        let bytes = captured.0.lock().expect("buffer").clone();
        String::from_utf8(bytes).expect("utf-8")
    }

    #[test]
    fn json_line_has_the_keys_in_order_and_typed_values() {
        let output = capture(Style::Json, || {
            tracing::info!(
                event = "postgresql_migrator.migration_finished",
                target = "postgres",
                version = 3,
                duration_ms = 12_u64,
                "applied V3 add_orders"
            );
        });
        let line: Value = serde_json::from_str(output.trim_end()).expect("one JSON object");
        let object = line.as_object().expect("object");
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        assert_eq!(keys, ["timestamp", "level", "event", "service", "target", "version", "duration_ms", "message"]);
        assert_eq!(object["level"], "info");
        assert_eq!(object["event"], "postgresql_migrator.migration_finished");
        assert_eq!(object["service"], "migrator");
        assert_eq!(object["target"], "postgres");
        assert_eq!(object["version"], 3);
        assert_eq!(object["duration_ms"], 12);
        assert_eq!(object["message"], "applied V3 add_orders");
        let timestamp = object["timestamp"].as_str().expect("string");
        assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(), "{timestamp}");
        assert!(timestamp.ends_with('Z'), "UTC: {timestamp}");
    }

    #[test]
    fn event_without_event_field_is_named_by_its_tracing_target() {
        let output = capture(Style::Json, || tracing::warn!(target: "sqlx::query", "slow statement"));
        let line: Value = serde_json::from_str(output.trim_end()).expect("JSON");
        assert_eq!(line["event"], "sqlx::query");
        assert_eq!(line["level"], "warn");
        assert!(line.get("target").is_none(), "tracing's target metadata must not appear as `target`: {line}");
    }

    #[test]
    fn span_fields_are_written_before_the_event_fields() {
        let output = capture(Style::Json, || {
            let span = tracing::info_span!("apply", target = "clickhouse");
            let _entered = span.enter();
            tracing::info!(event = "clickhouse_migrator.statement", statement = 2, "ok");
        });
        let line: Value = serde_json::from_str(output.trim_end()).expect("JSON");
        let keys: Vec<&str> = line.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(keys, ["timestamp", "level", "event", "service", "target", "statement", "message"]);
    }

    #[test]
    fn text_line_puts_the_message_first_and_stays_on_one_line() {
        let output = capture(Style::Text { colour: false }, || {
            tracing::error!(
                event = "migrator.failed",
                target = "kafka",
                error = "broker down\nretry",
                "migration failed"
            );
        });
        assert_eq!(output.lines().count(), 1, "{output:?}");
        let line = output.trim_end();
        assert!(
            line.contains("ERROR migration failed  event=migrator.failed target=kafka error=\"broker down"),
            "{line}"
        );
    }

    #[test]
    fn json_line_without_a_message_uses_the_event_name() {
        let output = capture(Style::Json, || tracing::info!(event = "kafka_migrator.topic_created", topic = "ticks"));
        let line: Value = serde_json::from_str(output.trim_end()).expect("JSON");
        assert_eq!(line["message"], "kafka_migrator.topic_created");
    }

    #[test]
    fn secret_fields_print_as_stars() {
        let password = crate::config::Secret::new("hunter2-sentinel");
        let output = capture(Style::Json, || tracing::info!(event = "x", password = ?password, "connecting"));
        assert!(!output.contains("hunter2-sentinel"), "{output}");
        assert!(output.contains("\"password\":\"***\""), "{output}");
    }

    #[test]
    fn bad_filter_names_its_setting() {
        let error = FilterSetting::choose(Some("info,=[x"), None).build().expect_err("invalid filter");
        assert!(error.to_string().starts_with("`--log-level` is not a valid log filter"), "{error}");
    }

    #[test]
    fn auto_is_text_on_a_terminal_and_json_elsewhere() {
        assert_eq!(Style::resolve(LogFormat::Auto, true, true), Style::Text { colour: true });
        assert_eq!(Style::resolve(LogFormat::Auto, true, false), Style::Text { colour: false });
        assert_eq!(Style::resolve(LogFormat::Auto, false, true), Style::Json);
        assert_eq!(Style::resolve(LogFormat::Text, false, true), Style::Text { colour: false });
        assert_eq!(Style::resolve(LogFormat::Json, true, true), Style::Json);
    }
}
