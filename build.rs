//! Declares every migration source to Cargo, so that adding, removing or editing one rebuilds the
//! crate and `plan!()` (in src/lib.rs) expands again: a proc macro cannot watch files on
//! stable Rust, and a stale plan is the failure sqlx users know best. It also prints a warning
//! for each destructive upgrade statement (a dropped table or column, a `TRUNCATE`, ...), since
//! a proc macro cannot warn on stable Rust either. Checking the sources is the macro's job,
//! because only its errors come out as ordinary `error:` lines.
//!
//! The lines printed come from `tradeforge_migrator_spec::build_script::lines`, where they are
//! tested.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    for line in tradeforge_migrator_spec::build_script::lines(&root) {
        println!("{line}");
    }
}
