//! The benchmark kit (issue 6): builds the real `migrator` over a generated corpus and measures
//! it on the local stack against the floor and the peers, printing medians and same-run ratios.
//! Run it with `scripts/bench [options]` (see `--help` and README "Benchmarks").
//!
//! `main` reads as the list of measurements; each module owns one.

// The corpus generators, shared with the spec crate's `compile` bench.
#[path = "../../macros/spec/benches/corpus/mod.rs"]
mod generate;

mod build_step;
mod context;
mod corpus;
mod floor;
mod full_apply;
mod indicators;
mod kafka;
mod options;
mod peers;
mod process;
mod proxy;
mod report;
mod stack;
mod up_to_date;

use std::path::Path;

use clap::Parser as _;

use crate::context::Context;
use crate::corpus::Corpus;
use crate::options::Options;
use crate::report::Report;
use crate::stack::Stack;

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    if arguments.get(1).is_some_and(|argument| argument == "floor") {
        floor::main(&arguments[2..]);
    }
    let options = Options::parse();
    let sizes = options.sizes();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stack = Stack::from_env();
    step(&format!("corpus: {sizes:?}, run `{}`; building the migrator over it", stack.run));
    let logs = workspace.join("target/bench/logs");
    std::fs::create_dir_all(&logs).expect("create target/bench/logs");
    let corpus = Corpus::prepare(workspace, &sizes, &stack.topic_prefix());
    corpus.build();
    let migrator = corpus.keep_binary("migrator");
    let mut context = Context {
        runtime: tokio::runtime::Runtime::new().expect("a tokio runtime"),
        stack,
        corpus,
        sizes,
        report: Report::default(),
        logs,
        profile: options.profile.then(|| workspace.join("target/bench/profile")),
        migrator,
        postgres_full_apply: Vec::new(),
        postgres_up_to_date: Vec::new(),
    };

    step("1. build step and incremental rebuild");
    build_step::measure(&mut context);
    if options.build_only {
        context.report.note("only item 1 measured (--build-only)".into());
        context.report.finish(&sizes, &workspace.join("target/bench/report.md"));
        return;
    }
    step("3. full apply, PostgreSQL and ClickHouse (7. peak memory)");
    full_apply::measure_postgres(&mut context);
    full_apply::measure_clickhouse(&mut context);
    step("4. kafka topics (builds a second migrator with fewer topics)");
    kafka::measure(&mut context);
    step("5. indicators");
    indicators::measure(&mut context);
    step("2. up to date, and round trips through counting proxies");
    up_to_date::measure(&mut context);
    if options.no_peers {
        context.report.note("peers skipped (--no-peers)".into());
    } else {
        step("6. peers");
        measure_peers(&mut context);
    }
    context.report.finish(&sizes, &workspace.join("target/bench/report.md"));
}

/// Item 6: the peer helper's measurements on the same PostgreSQL migrations, as peer / migrator.
fn measure_peers(context: &mut Context) {
    let migrations: Vec<peers::SqlMigration<'_>> = context
        .corpus
        .postgres
        .iter()
        .map(|migration| peers::SqlMigration {
            version: migration.version,
            description: &migration.description,
            upgrade: &migration.upgrade,
            downgrade: &migration.downgrade,
        })
        .collect();
    let work_dir = context.corpus.repo.with_file_name("peers-work");
    let outcomes = peers::measure_all(&migrations, &context.stack.admin_url, &work_dir, context.sizes.runs);
    for outcome in outcomes {
        match outcome {
            peers::PeerOutcome::Measured(figures) => {
                let report = &mut context.report;
                let peer = figures.peer;
                report.compare(
                    &format!("6. {peer}: full apply (ratio = {peer} / migrator)"),
                    &figures.full_apply,
                    "migrate postgres",
                    &context.postgres_full_apply,
                    None,
                );
                report.compare(
                    &format!("6. {peer}: up to date (ratio = {peer} / migrator)"),
                    &figures.up_to_date,
                    "migrate postgres",
                    &context.postgres_up_to_date,
                    None,
                );
            }
            peers::PeerOutcome::Unavailable { peer, why } => {
                context.report.note(format!("6. {peer} not measured: {why}"))
            }
        }
    }
}

fn step(text: &str) {
    eprintln!("==> {text}");
}
