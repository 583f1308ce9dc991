//! The results table: one row per figure with its median, the floor's or peer's median, the
//! ratio measured in the same run, and the goal; printed as Markdown and written to
//! `target/bench/report.md`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::options::Sizes;

#[derive(Default)]
pub struct Report {
    rows: Vec<[String; 6]>,
    notes: Vec<String>,
}

/// The middle sample (the upper one of an even count).
pub fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len() / 2).copied().unwrap_or_default()
}

/// The median of the per-run ratios `measured[i] / reference[i]`: each pair ran back to back, so
/// the ratio is steadier on a noisy machine than a ratio of two medians.
pub fn ratio(measured: &[Duration], reference: &[Duration]) -> f64 {
    let mut ratios: Vec<f64> = measured
        .iter()
        .zip(reference)
        .map(|(measured, reference)| measured.as_secs_f64() / reference.as_secs_f64().max(1e-9))
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios.get(ratios.len() / 2).copied().unwrap_or(f64::NAN)
}

pub fn ms(duration: Duration) -> String {
    let millis = duration.as_secs_f64() * 1e3;
    if millis >= 10_000.0 {
        format!("{:.1} s", millis / 1e3)
    } else {
        format!("{millis:.1} ms")
    }
}

fn verdict(met: Option<bool>) -> String {
    match met {
        Some(true) => "met".into(),
        Some(false) => "**missed**".into(),
        None => "—".into(),
    }
}

impl Report {
    /// A timed figure against a floor or peer measured in the same run; `goal` is the highest
    /// ratio that meets it (None: reported only).
    pub fn compare(
        &mut self,
        figure: &str,
        samples: &[Duration],
        reference: &str,
        references: &[Duration],
        goal: Option<f64>,
    ) {
        let ratio = ratio(samples, references);
        self.rows.push([
            figure.into(),
            ms(median(samples)),
            format!("{reference}: {}", ms(median(references))),
            format!("{ratio:.2}×"),
            goal.map_or("—".into(), |goal| format!("≤ {goal}×")),
            verdict(goal.map(|goal| ratio <= goal)),
        ]);
    }

    /// A figure without a reference (a count, a size, a time with an absolute goal).
    pub fn value(&mut self, figure: &str, value: String, goal: &str, met: Option<bool>) {
        self.rows.push([figure.into(), value, "—".into(), "—".into(), goal.into(), verdict(met)]);
    }

    /// A line printed under the table (what a miss consists of, what was skipped).
    pub fn note(&mut self, note: String) {
        println!("note: {note}");
        self.notes.push(note);
    }

    /// Prints the table with the date and the machine, and writes it to `path`.
    pub fn finish(&self, sizes: &Sizes, path: &Path) {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "Benchmark kit, {} — {} cores, {} GiB; corpus {} PostgreSQL + {} ClickHouse migrations, {} topics, {} \
             indicators; medians of {} runs\n",
            chrono::Local::now().format("%Y-%m-%d %H:%M"),
            std::thread::available_parallelism().map_or(0, usize::from),
            memory_gib(),
            sizes.postgres,
            sizes.clickhouse,
            sizes.topics,
            sizes.indicators,
            sizes.runs
        );
        let _ = writeln!(text, "| figure | median | floor / peer (median) | ratio | goal | met? |");
        let _ = writeln!(text, "|---|---|---|---|---|---|");
        for row in &self.rows {
            let _ = writeln!(text, "| {} |", row.join(" | "));
        }
        if !self.notes.is_empty() {
            let _ = writeln!(text);
            for note in &self.notes {
                let _ = writeln!(text, "- {note}");
            }
        }
        println!("\n{text}");
        std::fs::write(path, text).expect("write target/bench/report.md");
        println!("written to {}", path.display());
    }
}

/// `MemTotal` from /proc/meminfo, rounded to GiB.
fn memory_gib() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: u64 = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    (kib + 512 * 1024) / (1024 * 1024)
}
