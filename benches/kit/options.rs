//! The kit's command line: sizes, runs, what to measure. Every size also reads an environment
//! variable, so `scripts/bench` and CI can set them without flags.

use clap::Parser;

/// The benchmark kit: builds the real `migrator` over a generated corpus and measures it against
/// the floor and the peers on the local stack. Run it through `scripts/bench`.
#[derive(Debug, Parser)]
#[command(name = "kit")]
pub struct Options {
    /// PostgreSQL migrations in the corpus [default: 200; --quick: 30]
    #[arg(long, env = "TFM_BENCH_PG")]
    pub pg: Option<usize>,
    /// ClickHouse migrations in the corpus [default: 100; --quick: 20]
    #[arg(long, env = "TFM_BENCH_CH")]
    pub ch: Option<usize>,
    /// Kafka topics in the corpus [default: 500; --quick: 100]
    #[arg(long, env = "TFM_BENCH_TOPICS")]
    pub topics: Option<usize>,
    /// Indicator definitions in the corpus [default: 10000; --quick: 1000]
    #[arg(long, env = "TFM_BENCH_INDICATORS")]
    pub indicators: Option<usize>,
    /// Runs per figure; each figure is the median [default: 5; --quick: 3]
    #[arg(long, env = "TFM_BENCH_RUNS")]
    pub runs: Option<usize>,
    /// Timed incremental rebuilds after editing one migration [default: 2; --quick: 1]
    #[arg(long, env = "TFM_BENCH_REBUILDS")]
    pub rebuilds: Option<usize>,
    /// Smaller corpus and fewer runs: a check that the kit works, not figures to publish
    #[arg(long)]
    pub quick: bool,
    /// Run every migrator invocation under `perf record` (when installed) with debug logs; the
    /// data and logs go to target/bench/profile/
    #[arg(long, env = "TFM_BENCH_PROFILE")]
    pub profile: bool,
    /// Skip the peers (sqlx-cli, dbmate, Alembic)
    #[arg(long)]
    pub no_peers: bool,
    /// Measure item 1 only (the build step and the incremental rebuilds, debug and release): no
    /// server is touched
    #[arg(long)]
    pub build_only: bool,
    /// cargo passes `--bench` to every bench target; accepted and ignored
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// The options with every default resolved.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub postgres: usize,
    pub clickhouse: usize,
    pub topics: usize,
    pub indicators: usize,
    pub runs: usize,
    pub rebuilds: usize,
}

impl Options {
    pub fn sizes(&self) -> Sizes {
        let pick =
            |given: Option<usize>, full: usize, quick: usize| given.unwrap_or(if self.quick { quick } else { full });
        Sizes {
            // At least V1 (system_indicators) and V2 (a lookup table) so the corpus has its shape.
            postgres: pick(self.pg, 200, 30).max(3),
            clickhouse: pick(self.ch, 100, 20).max(1),
            topics: pick(self.topics, 500, 100).max(1),
            indicators: pick(self.indicators, 10_000, 1000).max(1),
            runs: pick(self.runs, 5, 3).max(1),
            rebuilds: pick(self.rebuilds, 2, 1),
        }
    }
}
