//! The migration file-name parser and its "did you mean" suggestion, on any name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tradeforge_migrator_spec::migrations::{parse_file_name, suggest_file_name};

fuzz_target!(|name: &str| {
    if let Ok((version, description)) = parse_file_name(name) {
        // Leading zeros aside, the name is the version and the description, so writing them
        // back gives a name that reads the same.
        let written = format!("V{version}-{description}.sql");
        assert_eq!(parse_file_name(&written), Ok((version, description)), "{name:?}");
    }
    if let Some(suggestion) = suggest_file_name(name) {
        assert_ne!(suggestion, name);
        assert!(parse_file_name(&suggestion).is_ok(), "suggested {suggestion:?} for {name:?}");
    }
});
