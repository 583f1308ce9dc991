//! The build-time step on a large generated corpus: discovering, reading and checking every
//! source, then generating the plan's code — what `plan!()` does on each build.
//!
//! `cargo bench -p tradeforge-migrator-spec --bench compile` (sizes via `TFM_BENCH_PG`,
//! `TFM_BENCH_CH`, `TFM_BENCH_TOPICS`, `TFM_BENCH_INDICATORS`; runs via `TFM_BENCH_RUNS`).
//! Prints figures; the goal for 1,000 + 1,000 migrations, 500 topics and 1,000 indicators is a
//! median under 1 s on a 2-core machine.

mod corpus;

use std::time::{Duration, Instant};

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|value| value.parse().ok()).unwrap_or(default)
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
    corpus::write_migrations(corpus.path(), "postgres", &corpus::postgres(postgres));
    corpus::write_migrations(corpus.path(), "clickhouse", &corpus::clickhouse(clickhouse));
    corpus::write(corpus.path(), "kafka_topics.yml", &corpus::kafka_topics(topics, "bench.topic."));
    corpus::write(corpus.path(), "indicators/data/indicators.json", &corpus::indicators(indicators));

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
        let tokens =
            tradeforge_migrator_spec::codegen::expand(&plan, tradeforge_migrator_spec::codegen::Expansion::Plan);
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
