//! How `status` and `check` print a [`StatusReport`]: one reading of the servers
//! (`crate::run::status`), three renderings. `status` is for people, `check` says why it fails
//! (for CI, like `alembic check`), and `--format json` is for machines.

use std::io::Write;

use serde_json::{json, Value};

use crate::run::{target_list, StatusReport, TargetStatus};
use crate::targets::TargetName;

/// Which command prints the report: they differ only in the closing line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Status,
    Check,
}

/// A line per target (`postgres: at the plan (V7 system_indicators)`, or its position, the
/// plan's head and a line per pending change, problem and note), then the verdict line.
pub fn write_text(out: &mut dyn Write, report: &StatusReport, verdict: Verdict) {
    // A closed stdout must not turn a reading into a failure; the exit code still tells.
    for target in &report.targets {
        let _ = write_target(out, target);
    }
    let _ = writeln!(out, "{}", verdict_line(report, verdict));
}

fn write_target(out: &mut dyn Write, target: &TargetStatus) -> std::io::Result<()> {
    let status = &target.status;
    let current = status.current.as_deref().unwrap_or("nothing applied yet");
    if status.is_at_plan() {
        writeln!(out, "{}: at the plan ({current})", target.target)?;
    } else {
        writeln!(
            out,
            "{}: {current}; {} pending, {} problems (plan: {})",
            target.target,
            status.pending.len(),
            status.problems.len(),
            target.plan
        )?;
    }
    for pending in &status.pending {
        writeln!(out, "  pending  {pending}")?;
    }
    for problem in &status.problems {
        writeln!(out, "  problem  {problem}")?;
    }
    for note in &status.notes {
        writeln!(out, "  note     {note}")?;
    }
    Ok(())
}

/// `status: postgres, clickhouse at the plan sha256:…`, or what differs.
fn verdict_line(report: &StatusReport, verdict: Verdict) -> String {
    let all: Vec<TargetName> = report.targets.iter().map(|target| target.target).collect();
    match (verdict, report.is_at_plan()) {
        (Verdict::Status, true) => format!("status: {} at the plan {}", target_list(&all), report.fingerprint),
        (Verdict::Status, false) => {
            format!("status: not at the plan {}: {}", report.fingerprint, target_list(&report.behind()))
        }
        (Verdict::Check, true) => format!("check: ok; {} match the plan {}", target_list(&all), report.fingerprint),
        (Verdict::Check, false) => {
            let differing: Vec<String> = report
                .targets
                .iter()
                .filter(|target| !target.status.is_at_plan())
                .map(|target| format!("{} ({})", target.target, counts(target)))
                .collect();
            format!(
                "check: failed; {} differ from the plan {}; run `migrator migrate` for pending changes, and see \
                 each problem above",
                differing.join(", "),
                report.fingerprint
            )
        }
    }
}

/// `2 pending, 1 problem`, leaving out a zero count.
fn counts(target: &TargetStatus) -> String {
    let plural = |count: usize, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    let mut parts = Vec::new();
    if !target.status.pending.is_empty() {
        parts.push(plural(target.status.pending.len(), "pending", "pending"));
    }
    if !target.status.problems.is_empty() {
        parts.push(plural(target.status.problems.len(), "problem", "problems"));
    }
    parts.join(", ")
}

/// One JSON document:
///
/// ```json
/// {"plan": "sha256:…", "at_plan": false, "targets": [
///   {"target": "postgres", "address": "postgres://app@db:5432/trading", "at_plan": false,
///    "current": "V5 subscriptions", "plan": "V7", "pending": ["V6 …"], "problems": [], "notes": []}]}
/// ```
///
/// `current` is `null` when nothing was applied yet.
pub fn write_json(out: &mut dyn Write, report: &StatusReport) {
    let _ = writeln!(out, "{}", to_json(report));
}

pub fn to_json(report: &StatusReport) -> Value {
    let targets: Vec<Value> = report
        .targets
        .iter()
        .map(|target| {
            json!({
                "target": target.target.as_str(),
                "address": target.address,
                "at_plan": target.status.is_at_plan(),
                "current": target.status.current,
                "plan": target.plan,
                "pending": target.status.pending,
                "problems": target.status.problems,
                "notes": target.status.notes,
            })
        })
        .collect();
    json!({ "plan": report.fingerprint, "at_plan": report.is_at_plan(), "targets": targets })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::targets::Status;

    fn report() -> StatusReport {
        StatusReport {
            fingerprint: "sha256:abc",
            targets: vec![
                TargetStatus {
                    target: TargetName::Postgres,
                    address: "postgres://app@db:5432/trading".into(),
                    plan: "V7".into(),
                    status: Status {
                        current: Some("V5 subscriptions".into()),
                        pending: vec!["V6 a (a.sql)".into(), "V7 b (b.sql)".into()],
                        problems: vec!["V3 c: applied with checksum `x`".into()],
                        notes: Vec::new(),
                    },
                },
                TargetStatus {
                    target: TargetName::Kafka,
                    address: "kafka://k:9092".into(),
                    plan: "2 topics".into(),
                    status: Status {
                        current: Some("2 of 2 declared topics exist".into()),
                        notes: vec!["undeclared topic x".into()],
                        ..Status::default()
                    },
                },
            ],
        }
    }

    fn text(verdict: Verdict) -> String {
        let mut out = Vec::new();
        write_text(&mut out, &report(), verdict);
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn status_shows_position_head_pending_problems_and_notes() {
        assert_eq!(
            text(Verdict::Status),
            "postgres: V5 subscriptions; 2 pending, 1 problems (plan: V7)\n  pending  V6 a (a.sql)\n  pending  V7 b \
             (b.sql)\n  problem  V3 c: applied with checksum `x`\nkafka: at the plan (2 of 2 declared topics exist)\n  \
             note     undeclared topic x\nstatus: not at the plan sha256:abc: postgres\n"
        );
    }

    #[test]
    fn check_says_which_targets_differ_and_how() {
        let text = text(Verdict::Check);
        assert!(
            text.ends_with("check: failed; postgres (2 pending, 1 problem) differ from the plan sha256:abc; run `migrator migrate` for pending changes, and see each problem above\n"),
            "{text}"
        );
    }

    #[test]
    fn json_carries_every_line() {
        let json = to_json(&report());
        assert_eq!(json["at_plan"], false);
        assert_eq!(json["targets"][0]["current"], "V5 subscriptions");
        assert_eq!(json["targets"][0]["plan"], "V7");
        assert_eq!(json["targets"][0]["pending"].as_array().map(Vec::len), Some(2));
        assert_eq!(json["targets"][1]["at_plan"], true);
        assert_eq!(json["targets"][1]["notes"][0], "undeclared topic x");
    }
}
