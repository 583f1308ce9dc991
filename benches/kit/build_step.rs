//! Item 1, the build step: `plan!()`'s work (discover, read, check, generate code) on the
//! issue's corpus of 1,000 + 1,000 migrations, 500 topics and 1,000 indicators, in-process as
//! the spec crate's `compile` bench does; and the incremental rebuild a user waits for after
//! editing one migration (whole `cargo build [--release] --bin migrator` wall time, debug and release).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::context::Context;
use crate::corpus::Profile;
use crate::generate;
use crate::report::{median, ms};

/// The build-step corpus, fixed whatever the kit's sizes.
const MIGRATIONS: usize = 1000;
const TOPICS: usize = 500;
const INDICATORS: usize = 1000;

pub fn measure(context: &mut Context) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    generate::write_migrations(folder.path(), "postgres", &generate::postgres(MIGRATIONS));
    generate::write_migrations(folder.path(), "clickhouse", &generate::clickhouse(MIGRATIONS));
    generate::write(folder.path(), "kafka_topics.yml", &generate::kafka_topics(TOPICS, "bench.topic."));
    generate::write(folder.path(), "indicators/data/indicators.json", &generate::indicators(INDICATORS));
    let samples: Vec<Duration> = (0..context.sizes.runs).map(|_| expand(folder.path())).collect();
    let total = median(&samples);
    context.report.value(
        &format!("1. build step: plan! check + codegen, {MIGRATIONS}+{MIGRATIONS} migrations, {TOPICS} topics, {INDICATORS} indicators"),
        ms(total),
        "< 1 s",
        Some(total < Duration::from_secs(1)),
    );

    let expansion: Vec<Duration> = (0..context.sizes.runs).map(|_| expand(&context.corpus.repo)).collect();
    context.report.value(
        "1. build step on the kit's corpus (part of each rebuild below)",
        ms(median(&expansion)),
        "—",
        None,
    );

    // The runtime crate does not depend on the sources, so an edit recompiles only the root crate
    // (the plan) and links (issue 11's goals: debug < 5 s, release < 15 s). The debug build is
    // warmed once, untimed: its dependencies are not built by the rest of the kit.
    if context.sizes.rebuilds > 0 {
        context.corpus.build_in(Profile::Debug);
    }
    for (profile, command, goal) in
        [(Profile::Debug, "cargo build", 5), (Profile::Release, "cargo build --release", 15)]
    {
        let mut rebuilds = Vec::new();
        for edit in 0..context.sizes.rebuilds {
            context.corpus.edit_one_migration(edit);
            rebuilds.push(context.corpus.build_in(profile));
        }
        if !rebuilds.is_empty() {
            let rebuild = median(&rebuilds);
            context.report.value(
                &format!("1. incremental rebuild after editing one migration ({command}, wall)"),
                ms(rebuild),
                &format!("< {goal} s"),
                Some(rebuild < Duration::from_secs(goal)),
            );
        }
    }
}

/// One `plan!()` expansion: `spec::compile` and `codegen::expand` over the sources at `root`.
fn expand(root: &Path) -> Duration {
    let started = Instant::now();
    let plan = tradeforge_migrator_spec::compile(root)
        .unwrap_or_else(|problems| panic!("the generated corpus must be valid:\n{problems}"));
    let tokens = tradeforge_migrator_spec::codegen::expand(&plan, tradeforge_migrator_spec::codegen::Expansion::Plan);
    std::hint::black_box(tokens);
    started.elapsed()
}
