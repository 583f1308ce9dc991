//! The plan compiled from this repository's sources. build.rs makes Cargo recompile this crate
//! whenever a source file is added, removed or edited, so the plan is never stale.

tradeforge_migrator_macros::plan!();
