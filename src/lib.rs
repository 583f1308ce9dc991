//! Trade Forge Migrator for this repository: the plan compiled from `migrations/`,
//! `kafka_topics.yml` and `indicators/`, and the typed names application code uses.
//!
//! build.rs makes Cargo recompile this crate whenever a source file is added, removed or edited,
//! so the plan is never stale. Only this small crate recompiles: the runtime that applies the plan
//! is `tradeforge-migrator-runtime` (`runtime/`), re-exported here whole, so
//! `tradeforge_migrator::run`, `::targets` and the rest keep their paths.
//!
//! With `default-features = false` the crate holds the `topics` and `indicators` constants only
//! (checked by the same compiler) and links no database client.

// The generated plan names its types `::tradeforge_migrator::plan::…`.
extern crate self as tradeforge_migrator;

#[cfg(feature = "runtime")]
pub use tradeforge_migrator_runtime::*;

#[cfg(feature = "runtime")]
tradeforge_migrator_macros::plan!();

#[cfg(not(feature = "runtime"))]
tradeforge_migrator_macros::names!();
