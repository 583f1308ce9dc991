//! `kafka_topics.yml` checks on any text, then code generation for the topics they accept (a
//! topic's constant must be a valid Rust identifier).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeforge_migrator_spec::diag::Problems;
use tradeforge_migrator_spec::model::Plan;
use tradeforge_migrator_spec::{codegen, source, topics};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = source::normalize(bytes) else { return };
    let mut problems = Problems::default();
    let topics = topics::check("kafka_topics.yml", &text, &mut problems);
    for problem in problems.iter() {
        let _ = problem.to_string();
    }
    if problems.is_empty() {
        let plan = Plan { topics, ..Plan::default() };
        let _ = codegen::expand(&plan, codegen::Expansion::Plan);
    }
});
