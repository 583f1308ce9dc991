//! Trade Forge Migrator's runtime: applies a compiled plan to PostgreSQL, ClickHouse, MongoDB, Kafka and the
//! indicator catalogue. It does not depend on any repository's sources: the crate that calls
//! `plan!()` (this repository's root crate) passes its `PLAN` to [`app::main`], so editing a
//! migration recompiles that small crate only, never this one.

// The plan types are named `::tradeforge_migrator::plan::…` by generated code, and this crate's
// unit tests may expand `plan!()` themselves.
extern crate self as tradeforge_migrator;

pub mod app;
pub mod backup;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit_code;
pub mod health;
pub mod lock;
pub mod logging;
pub mod outcome;
pub mod plan;
pub mod run;
pub mod targets;

/// `plan!()` compiles a sources folder into a typed plan; `#[data_migration]` marks a PostgreSQL
/// data migration written in Rust. See `tradeforge_migrator_macros`.
pub use tradeforge_migrator_macros::{data_migration, plan};
