//! Parses and checks every source of tradeforge-migrator: the SQL and MongoDB migrations, `kafka_topics.yml`
//! and the indicator catalogue. This is the one implementation of every rule: build.rs prints
//! [`build_script::lines`] (the inputs to watch for rebuilds, and the [`lint`] warnings), and the
//! `plan!()` macro calls [`compile`] to check the sources and expand the typed plan.

pub mod build_script;
pub mod cluster;
pub mod codegen;
pub mod data;
pub mod diag;
pub mod indicators;
pub mod lint;
pub mod migrations;
pub mod model;
pub mod mongodb;
pub mod other_tools;
pub mod placeholder;
pub mod schema;
pub mod source;
pub mod sql;
pub mod topic_config;
pub mod topics;
pub mod transaction;
pub mod tree;

use std::path::Path;

use diag::Problems;
use model::Plan;

/// Reads and checks every source under `root` and returns the plan, or every problem found.
///
/// This is the whole build-time step: the `plan!()` macro calls it and expands the result.
pub fn compile(root: &Path) -> Result<Plan, Problems> {
    compile_parts(root, Parts::All)
}

/// Reads and checks the SQL and data migrations only: a plan whose topics, indicators and
/// fingerprint are left empty. build.rs's warnings need no more, and checking 10,000 indicators
/// twice per build (once there, once in `plan!()`) was a tenth of a rebuild.
pub fn compile_migrations(root: &Path) -> Result<Plan, Problems> {
    compile_parts(root, Parts::Migrations)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    All,
    Migrations,
}

fn compile_parts(root: &Path, parts: Parts) -> Result<Plan, Problems> {
    let mut problems = Problems::default();
    if !root.is_dir() {
        problems.push(source::SourceError::MissingRoot { path: root.display().to_string() });
        return Err(problems);
    }
    let inputs = match source::discover(root) {
        Ok(inputs) => inputs,
        Err(error) => {
            problems
                .push(source::ReadError::Io { at: diag::Location::file(root.display().to_string()), source: error });
            return Err(problems);
        }
    };
    for misnamed in &inputs.misnamed {
        problems.push(source::SourceError::Misnamed { path: misnamed.path.clone(), expected: misnamed.expected });
    }
    let data_files = data::check(&inputs, &mut problems);
    let migrations = migrations::check(&inputs, &data_files, &mut problems);
    let mut plan = Plan {
        fingerprint: String::new(),
        postgres: migrations.postgres,
        clickhouse: migrations.clickhouse,
        mongodb: Vec::new(),
        topics: Vec::new(),
        indicators: Vec::new(),
        rejected_data_files: data_files
            .iter()
            .filter(|file| file.declaration.is_none())
            .map(|file| inputs.path(&file.path).display().to_string())
            .collect(),
    };
    if parts == Parts::Migrations {
        return problems.into_result(plan);
    }
    plan.mongodb = mongodb::check(root, &mut problems);
    let topics_text = inputs.kafka_topics.as_deref().and_then(|path| read(root, path, &mut problems));
    if let (Some(path), Some(text)) = (&inputs.kafka_topics, &topics_text) {
        plan.topics = topics::check(path, text, &mut problems);
    }
    let indicator_sources: Vec<(String, String)> = inputs
        .indicator_files
        .iter()
        .filter_map(|path| read(root, path, &mut problems).map(|text| (path.clone(), text)))
        .collect();
    plan.indicators = indicators::check(&indicator_sources, &mut problems);
    let mut documents = Vec::new();
    documents.extend(data_files.into_iter().map(|file| (file.path, file.text)));
    documents.extend(inputs.kafka_topics.iter().cloned().zip(topics_text));
    documents.extend(indicator_sources);
    plan.fingerprint = fingerprint(&plan, &documents);
    problems.into_result(plan)
}

fn read(root: &Path, relative: &str, problems: &mut Problems) -> Option<String> {
    source::read(root, relative).map_err(|error| problems.push(error)).ok()
}

/// `sha256:<hex>` over every input: each SQL and MongoDB file and each document (data migration, topics,
/// indicators), as path and normalised text, in plan order. Normalised text means a checkout
/// that converts line endings builds a binary with the same fingerprint.
fn fingerprint(plan: &Plan, documents: &[(String, String)]) -> String {
    let mut input = String::new();
    let scripts = plan
        .postgres
        .iter()
        .chain(&plan.clickhouse)
        .flat_map(|migration| [&migration.upgrade, &migration.downgrade])
        .map(|script| (script.path.as_str(), script.sql.as_str()));
    let mongodb = plan
        .mongodb
        .iter()
        .flat_map(|migration| [&migration.upgrade, &migration.downgrade])
        .map(|script| (script.path.as_str(), script.text.as_str()));
    let scripts = scripts.chain(mongodb);
    let documents = documents.iter().map(|(path, text)| (path.as_str(), text.as_str()));
    for (path, text) in scripts.chain(documents) {
        // Lengths make the concatenation unambiguous.
        input.push_str(&format!("{}:{path}\n{}:{text}\n", path.len(), text.len()));
    }
    source::sha256_hex(&input)
}
