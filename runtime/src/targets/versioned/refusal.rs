//! Every refusal of a versioned target, with one wording for PostgreSQL and ClickHouse: the
//! engine raises them, each backend's error wraps them unchanged.

use std::fmt;

use super::irreversible::IrreversibleError;
use crate::targets::TargetName;

/// A refusal of the versioned-migration engine; raised before any step runs.
#[derive(Debug, thiserror::Error)]
pub enum VersionedError {
    #[error(
        "`{server}`: the history has a gap below V{head}, its newest applied version: {gaps}; running {them} now \
         could repeat what {they} did, so nothing was run; if {they} did run here (a history row was deleted or \
         lost), check that the database has {their} changes and run `migrator repair --target {target}`, which \
         records {them} as applied after you confirm; if {they} never ran here (a file merged with a version below \
         ones already applied), renumber {them} above V{head}",
        gaps = list(.gaps),
        them = pronoun(.gaps.len(), "it", "them"),
        they = pronoun(.gaps.len(), "it", "they"),
        their = pronoun(.gaps.len(), "its", "their"),
    )]
    Gaps { server: String, target: TargetName, head: u64, gaps: Vec<Gap> },
    #[error(
        "`{server}` has no migration history ({history} does not exist), but the database already holds \
         {objects}; migrating would run \
         V{first} over a schema it did not create; if another tool (or a lost history table) built this schema, \
         find the plan version it matches and run `migrator baseline --target {target} <version>`, which records \
         the migrations up to it as applied without running them; if these objects do not belong here, point the \
         migrator at an empty database",
        objects = object_list(.objects),
        history = history_name(*.target),
    )]
    SchemaWithoutHistory { server: String, target: TargetName, objects: Vec<String>, first: u64 },
    #[error(transparent)]
    Unsettled(Box<Unsettled>),
    #[error(transparent)]
    Irreversible(#[from] IrreversibleError),
    #[error(
        "database is at V{database_head}, newer than this binary's plan (head V{plan_head}): `{server}` holds {unknown}, \
         applied by a newer release; deploy that release, or undo them with `down` (which runs the {stored} \
         recorded in {history}), before migrating with this binary",
        history = history_name(*.target),
        stored = if *.target == TargetName::Mongodb { "downgrade" } else { "`downgrade_sql`" },
    )]
    AheadOfPlan { server: String, target: TargetName, database_head: u64, plan_head: u64, unknown: String },
    #[error(
        "`{server}`: V{version} is applied but no longer in the plan, below its head V{plan_head} (a deleted or \
         renumbered migration file; not in the plan: {missing}); migrating around it could repeat or skip its \
         changes, so nothing was run; restore the file as it was, undo it with `down` (which runs the downgrade \
         stored in {history}), or run `repair` to forget the row (what it created stays in the database)",
        history = history_name(*.target),
    )]
    MissingFromPlan { server: String, target: TargetName, version: u64, missing: String, plan_head: u64 },
    #[error(
        "{path}: V{version} was applied to `{server}` with checksum `{recorded}`, but the file now has `{planned}`; \
         an applied migration must not change: restore the file and put the change in a new migration, or, if the \
         edit changes nothing in the database (comments, formatting), accept it with `repair`"
    )]
    ChecksumMismatch { server: String, path: &'static str, version: u64, recorded: String, planned: &'static str },
    #[error(
        "{path}: V{version} stopped part-way on `{server}` after {done} of {recorded_total} statements (checksum \
         `{recorded}`), but the file now has `{planned}` ({planned_total} statements), so which applied statements it \
         still holds cannot be known; restore the file as it was and run migrate to resume, or finish V{version} by \
         hand as the file now reads and run repair, which records it as applied"
    )]
    EditedAfterPartial {
        server: String,
        path: &'static str,
        version: u64,
        done: u32,
        recorded_total: u32,
        recorded: String,
        planned_total: usize,
        planned: &'static str,
    },
    #[error(
        "the downgrade of V{version} {description} stopped part-way on `{server}` after {done} of {total} statements, \
         so its objects are half gone and nothing was run; run down to a version below V{version} to finish the \
         downgrade (it resumes at statement {next}/{total}), or finish it by hand and run repair, which records \
         V{version} as reverted",
        next = .done + 1,
    )]
    Reverting { server: String, version: u64, description: String, done: u32, total: u32 },
    #[error(
        "V{version} {description} stopped part-way on `{server}` after {done} of {total} statements, and down cannot \
         undo a half-applied migration, so nothing was run; resume it with migrate, or finish it by hand and run \
         repair, then run down again"
    )]
    PartialBlocksDowngrade { server: String, version: u64, description: String, done: u32, total: u32 },
    #[error(
        "cannot go down to V{to}: `{server}` is at {current}; `down` cannot go to V{to}, which is above it; \
         `up --to {to}` goes forward"
    )]
    DowngradeAboveCurrent { server: String, to: u64, current: String },
    #[error("V{version} is not a {kind} migration of this plan; {known}", kind = kind(*.target))]
    UnknownVersion { target: TargetName, version: u64, known: String },
    #[error(
        "`{server}`: {history} already records {count} migrations (up to {current}); `baseline` only adopts \
         a database with an empty history; use `migrate` or `up` to go further",
        history = history_name(*.target),
    )]
    BaselineOnHistory { server: String, target: TargetName, count: usize, current: String },
}

/// A statement started but without a recorded outcome, which the catalog cannot settle:
/// [`VersionedError::Unsettled`].
#[derive(Debug, thiserror::Error)]
#[error(
    "{path}: statement {number}/{total} of V{version} {description} (`{first_line}`) was started on `{server}` \
     but its outcome was never recorded (the migrator stopped in between), and {why}, so nothing was run; \
     check whether it ran: if it did, finish V{version} by hand and run `migrator repair --target {target}`, \
     which records V{version} as applied after you confirm; if it did not, run it (and the rest of V{version}) \
     by hand and run repair the same way"
)]
pub struct Unsettled {
    pub server: String,
    pub target: TargetName,
    pub path: &'static str,
    pub version: u64,
    pub description: &'static str,
    /// 1-based.
    pub number: usize,
    pub total: usize,
    pub first_line: String,
    /// Why the catalog cannot tell ([`super::effect::Unreadable`]), or what it showed.
    pub why: String,
}

/// One plan version the history does not record as applied, below applied versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    pub version: u64,
    pub description: &'static str,
    /// `None`: no row at all; `Some`: the row says `done` of `total` statements ran.
    pub partial: Option<(u32, u32)>,
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.partial {
            None => write!(f, "V{} {} (no history row)", self.version, self.description),
            Some((done, total)) => {
                write!(f, "V{} {} (recorded as partial at {done}/{total})", self.version, self.description)
            }
        }
    }
}

/// Where a target keeps its history, for messages: MongoDB's collection `migrations`, the SQL
/// targets' table `migration_history`.
pub fn history_name(target: TargetName) -> &'static str {
    match target {
        TargetName::Mongodb => "`migrations`",
        _ => "`migration_history`",
    }
}

/// The server kind as people write it, for messages.
pub fn kind(target: TargetName) -> &'static str {
    match target {
        TargetName::Postgres => "PostgreSQL",
        TargetName::Clickhouse => "ClickHouse",
        TargetName::Mongodb => "MongoDB",
        TargetName::Kafka => "Kafka",
        TargetName::Indicators => "indicator",
    }
}

fn list(gaps: &[Gap]) -> String {
    gaps.iter().map(Gap::to_string).collect::<Vec<_>>().join(", ")
}

pub(super) fn pronoun(count: usize, one: &'static str, many: &'static str) -> &'static str {
    if count == 1 {
        one
    } else {
        many
    }
}

/// `tables `a`, `b` and 3 more`.
fn object_list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names.iter().take(SHOWN).map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    format!("{} {text}", pronoun(names.len(), "the table", "the tables"))
}
