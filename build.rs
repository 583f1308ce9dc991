//! Declares every migration source to Cargo, so that adding, removing or editing one rebuilds the
//! crate and `plan!()` (in src/compiled.rs) expands again: a proc macro cannot watch files on
//! stable Rust, and a stale plan is the failure sqlx users know best. Checking the sources is
//! the macro's job, because only its errors come out as ordinary `error:` lines.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let inputs = match tradeforge_migrator_spec::source::discover(&root) {
        Ok(inputs) => inputs,
        Err(error) => {
            // The macro reports the same problem as a compile error; watching the folder still
            // lets a fix trigger the rebuild.
            println!("cargo:warning=cannot list the migration sources: {error}");
            println!("cargo:rerun-if-changed=migrations");
            return;
        }
    };
    for path in tradeforge_migrator_spec::source::watch_paths(&inputs) {
        // Cargo reruns a build script on every build while a declared path is missing, so a
        // missing path is left out: a file created later inside a declared folder is still
        // noticed (the only exception is a `kafka_topics.yml` created where there was none).
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}
