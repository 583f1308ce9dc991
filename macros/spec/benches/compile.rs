//! The build-time step on a large generated corpus: discovering, reading and checking every
//! source, then generating the plan's code — what `plan!()` does on each build.
//!
//! `cargo bench -p tradeforge-migrator-spec --bench compile` (sizes via `TFM_BENCH_PG`,
//! `TFM_BENCH_CH`, `TFM_BENCH_TOPICS`, `TFM_BENCH_INDICATORS`; runs via `TFM_BENCH_RUNS`).
//! Prints figures; the goal for 1,000 + 1,000 migrations, 500 topics and 1,000 indicators is a
//! median under 1 s on a 2-core machine.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

fn write(root: &Path, relative: &str, text: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("relative paths have a parent")).expect("create folder");
    std::fs::write(path, text).expect("write corpus file");
}

/// Migrations shaped like real ones: a header comment, a few statements, a string with a `;`.
fn generate_migrations(root: &Path, target: &str, count: usize) {
    for version in 1..=count {
        let name = format!("V{version:05}-create_table_{version}.sql");
        let upgrade = format!(
            "-- creates table t{version}\nCREATE TABLE t{version} (\n    id BIGINT NOT NULL,\n    \
             name TEXT NOT NULL DEFAULT 'a;b',\n    created_at TIMESTAMP\n);\n\
             /* an index; on name */\nCREATE INDEX t{version}_name ON t{version} (name);\n\
             COMMENT ON TABLE t{version} IS 'generated; for the bench';\n"
        );
        let downgrade = format!("-- drops table t{version}\nDROP TABLE t{version};\n");
        write(root, &format!("migrations/{target}/upgrade/{name}"), &upgrade);
        write(root, &format!("migrations/{target}/downgrade/{name}"), &downgrade);
    }
}

fn generate_topics(root: &Path, count: usize) {
    let mut text =
        String::from("defaults:\n  partitions: 3\n  replication_factor: 1\n  config:\n    retention.ms: 7d\ntopics:\n");
    for index in 0..count {
        let _ = write!(
            text,
            "  - name: bench.topic.{index}\n    partitions: 6\n    config:\n      cleanup.policy: [compact, delete]\n      \
             retention.bytes: 1GiB\n      min.insync.replicas: 1\n"
        );
    }
    write(root, "kafka_topics.yml", &text);
}

fn generate_indicators(root: &Path, count: usize) {
    let definitions: Vec<serde_json::Value> = (0..count)
        .map(|index| {
            serde_json::json!({
                "name": format!("indicator_{index}"),
                "display_name": format!("Indicator {index}"),
                "category": "momentum",
                "description": "generated for the bench",
                "parameters": [
                    {"name": "period", "type": "integer", "default": 14, "min": 2, "max": 500},
                    {"name": "factor", "type": "float", "default": 2, "min": 0.1, "max": 10.0},
                    {"name": "source", "type": "enum", "default": "close", "values": ["open", "high", "low", "close"]}
                ],
                "outputs": [{"name": "value", "type": "float"}, {"name": "signal", "type": "boolean"}]
            })
        })
        .collect();
    let text = serde_json::to_string_pretty(&definitions).expect("serialise corpus");
    write(root, "indicators/data/indicators.json", &text);
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let postgres = env_size("TFM_BENCH_PG", 1000);
    let clickhouse = env_size("TFM_BENCH_CH", 1000);
    let topics = env_size("TFM_BENCH_TOPICS", 500);
    let indicators = env_size("TFM_BENCH_INDICATORS", 1000);
    let runs = env_size("TFM_BENCH_RUNS", 7).max(1);

    let corpus = tempfile::tempdir().expect("temporary folder");
    generate_migrations(corpus.path(), "postgres", postgres);
    generate_migrations(corpus.path(), "clickhouse", clickhouse);
    generate_topics(corpus.path(), topics);
    generate_indicators(corpus.path(), indicators);

    let mut check_times = Vec::new();
    let mut codegen_times = Vec::new();
    let mut total_times = Vec::new();
    let mut generated_bytes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let plan = match tradeforge_migrator_spec::compile(corpus.path()) {
            Ok(plan) => plan,
            Err(problems) => panic!("the generated corpus must be valid:\n{problems}"),
        };
        let checked = Instant::now();
        let tokens = tradeforge_migrator_spec::codegen::expand(&plan);
        let done = Instant::now();
        generated_bytes = tokens.to_string().len();
        check_times.push(checked - start);
        codegen_times.push(done - checked);
        total_times.push(done - start);
    }

    let total = median(total_times);
    println!("build step: {postgres} postgres + {clickhouse} clickhouse migrations, {topics} topics, {indicators} indicators");
    println!("  discover + read + check  median {:>8.1} ms", median(check_times).as_secs_f64() * 1e3);
    println!(
        "  code generation          median {:>8.1} ms  ({:.1} MiB of tokens)",
        median(codegen_times).as_secs_f64() * 1e3,
        generated_bytes as f64 / 1048576.0
    );
    println!(
        "  total                    median {:>8.1} ms  over {runs} runs (goal < 1000 ms: {})",
        total.as_secs_f64() * 1e3,
        if total < Duration::from_secs(1) { "met" } else { "MISSED" }
    );
}
