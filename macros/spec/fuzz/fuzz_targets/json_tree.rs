//! The JSON reader behind the indicator catalogue, on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeforge_migrator_spec::diag::Problems;
use tradeforge_migrator_spec::{source, tree};

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = source::normalize(bytes) else { return };
    let mut problems = Problems::default();
    if let Some(node) = tree::parse_json("indicators/data/fuzz.json", &text, &mut problems) {
        let _ = node.to_json();
    }
    for problem in problems.iter() {
        let _ = problem.to_string();
    }
});
