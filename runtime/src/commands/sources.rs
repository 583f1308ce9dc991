//! `migrator plan --check-sources DIR`: whether this binary's plan was compiled from the sources
//! in `DIR`. Cargo decides to rebuild by modification time, so a source replaced by a file with
//! an older time (`cp -p`, `rsync -a`, `tar x` over a tree with a build folder) leaves the old
//! plan in the binary; no stable Cargo feature compares contents. This recomputes the
//! fingerprint from the files with the build's own function (`spec::compile`, which `plan!()`
//! calls) and compares it with the binary's. It is the one command that reads the sources, and
//! only to compare: it never runs them.

use std::path::{Path, PathBuf};

use tradeforge_migrator_spec::diag::Problems;

use crate::plan::Plan;

/// The sources in the folder are not the ones the binary was built from.
#[derive(Debug, thiserror::Error)]
pub enum SourcesError {
    #[error(
        "the binary's plan ({built}) was not compiled from the sources in `{}` ({found}); rebuild the binary \
         (`touch` a changed source, or `cargo clean -p tradeforge-migrator`, then build): Cargo rebuilds by \
         modification time, and a file copied with its older time does not trigger a rebuild",
        .root.display()
    )]
    Stale { root: PathBuf, built: &'static str, found: String },
    #[error("the sources in `{}` do not build, so they cannot be this binary's:\n{problems}", .root.display())]
    DoNotBuild { root: PathBuf, problems: Problems },
}

/// `Ok(fingerprint)` when the sources under `root` compile to `plan`'s fingerprint.
pub fn check(plan: &Plan, root: &Path) -> Result<&'static str, SourcesError> {
    let found = tradeforge_migrator_spec::compile(root)
        .map_err(|problems| SourcesError::DoNotBuild { root: root.to_path_buf(), problems })?
        .fingerprint;
    if found != plan.fingerprint {
        return Err(SourcesError::Stale { root: root.to_path_buf(), built: plan.fingerprint, found });
    }
    Ok(plan.fingerprint)
}
