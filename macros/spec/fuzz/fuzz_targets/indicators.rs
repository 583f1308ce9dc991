//! Indicator catalogue checks on any text, then code generation for the indicators they accept.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeforge_migrator_spec::diag::Problems;
use tradeforge_migrator_spec::model::Plan;
use tradeforge_migrator_spec::{codegen, indicators, source};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = source::normalize(bytes) else { return };
    let mut problems = Problems::default();
    let files = [("indicators/data/fuzz.json".to_string(), text)];
    let indicators = indicators::check(&files, &mut problems);
    for problem in problems.iter() {
        let _ = problem.to_string();
    }
    if problems.is_empty() {
        let plan = Plan { indicators, ..Plan::default() };
        let _ = codegen::expand(&plan, codegen::Expansion::Plan);
    }
});
