//! The backup folder: one sub-folder per backup, named by UTC time and plan fingerprint prefix
//! (`2026-12-03T16-45-00.123Z-3f2a9c1b7d04`, so names sort by time), written as a hidden
//! `.<name>.partial` sibling and renamed into place once its manifest is on disk. A rename
//! within one folder is atomic, so a folder without the `.partial` mark is always complete; an
//! interrupted backup leaves only a `.partial` folder, which `backups` shows as incomplete and
//! nothing ever restores from.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::manifest::{Manifest, FILE_NAME};
use super::BackupError;

const PARTIAL_SUFFIX: &str = ".partial";

/// `2026-12-03T16-45-00.123Z-3f2a9c1b7d04` for a backup of plan `sha256:3f2a9c1b7d04…`.
pub fn backup_name(at: DateTime<Utc>, fingerprint: &str) -> String {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    let prefix: String = hex.chars().take(12).collect();
    format!("{}-{prefix}", at.format("%Y-%m-%dT%H-%M-%S%.3fZ"))
}

/// A backup being written: its hidden folder, renamed by [`InProgress::finish`].
#[derive(Debug)]
pub struct InProgress {
    pub name: String,
    pub path: PathBuf,
    dir: PathBuf,
}

impl InProgress {
    /// Creates `<dir>/.<name>.partial` (and `dir` itself when missing).
    pub fn start(dir: &Path, name: &str) -> Result<InProgress, BackupError> {
        fs::create_dir_all(dir).map_err(|source| BackupError::io("create the backup folder", dir, source))?;
        let path = dir.join(format!(".{name}{PARTIAL_SUFFIX}"));
        fs::create_dir(&path).map_err(|source| BackupError::io("create", &path, source))?;
        Ok(InProgress { name: name.to_owned(), path, dir: dir.to_owned() })
    }

    /// Writes the manifest last, syncs every file, and renames the folder into place.
    pub fn finish(self, manifest: &Manifest) -> Result<PathBuf, BackupError> {
        let manifest_path = self.path.join(FILE_NAME);
        fs::write(&manifest_path, manifest.to_json())
            .map_err(|source| BackupError::io("write", &manifest_path, source))?;
        for entry in fs::read_dir(&self.path).map_err(|source| BackupError::io("read", &self.path, source))? {
            let path = entry.map_err(|source| BackupError::io("read", &self.path, source))?.path();
            sync(&path)?;
        }
        sync(&self.path)?;
        let complete = self.dir.join(&self.name);
        fs::rename(&self.path, &complete).map_err(|source| BackupError::io("rename into place", &complete, source))?;
        sync(&self.dir)?;
        Ok(complete)
    }

    /// Removes the unfinished folder after a failure (best effort: a leftover is only shown as
    /// incomplete).
    pub fn abandon(self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

fn sync(path: &Path) -> Result<(), BackupError> {
    fs::File::open(path).and_then(|file| file.sync_all()).map_err(|source| BackupError::io("sync", path, source))
}

/// One entry of the backup folder.
#[derive(Debug)]
pub enum Listed {
    Complete {
        path: PathBuf,
        manifest: Manifest,
    },
    /// A `.partial` folder (interrupted) or a folder whose manifest cannot be read.
    Incomplete {
        path: PathBuf,
        why: String,
    },
}

impl Listed {
    pub fn path(&self) -> &Path {
        match self {
            Listed::Complete { path, .. } | Listed::Incomplete { path, .. } => path,
        }
    }
}

/// Every backup in `dir`, oldest first (names sort by time). A missing folder has none.
pub fn list(dir: &Path) -> Result<Vec<Listed>, BackupError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(BackupError::io("read", dir, source)),
    };
    let mut listed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| BackupError::io("read", dir, source))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(PARTIAL_SUFFIX) {
            listed.push(Listed::Incomplete { path, why: "interrupted while being written".to_owned() });
        } else if name.starts_with('.') {
            continue;
        } else {
            match Manifest::read(&path) {
                Ok(manifest) => listed.push(Listed::Complete { path, manifest }),
                Err(error) => listed.push(Listed::Incomplete { path, why: error.to_string() }),
            }
        }
    }
    listed.sort_by_key(|listed| sort_key(listed.path()));
    Ok(listed)
}

/// The name without the `.…partial` marks, so an unfinished backup sorts at its time.
fn sort_key(path: &Path) -> String {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    name.trim_start_matches('.').trim_end_matches(PARTIAL_SUFFIX).to_owned()
}

/// The complete backup `given` names: a folder path, or a name in `dir`.
pub fn resolve(dir: &Path, given: &str) -> Result<(PathBuf, Manifest), BackupError> {
    let as_path = PathBuf::from(given);
    let path = if as_path.join(FILE_NAME).is_file() { as_path } else { dir.join(given) };
    if !path.is_dir() {
        return Err(BackupError::NotFound { given: given.to_owned(), dir: dir.to_owned() });
    }
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    if name.ends_with(PARTIAL_SUFFIX) {
        return Err(BackupError::Incomplete { path });
    }
    let manifest = Manifest::read(&path)?;
    Ok((path, manifest))
}

/// Deletes the oldest complete backups beyond the newest `keep`; returns what it deleted.
/// Incomplete folders are left for a person to look at.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let complete: Vec<PathBuf> = list(dir)?
        .into_iter()
        .filter_map(|listed| match listed {
            Listed::Complete { path, .. } => Some(path),
            Listed::Incomplete { .. } => None,
        })
        .collect();
    let excess = complete.len().saturating_sub(keep);
    let mut deleted = Vec::new();
    for path in complete.into_iter().take(excess) {
        fs::remove_dir_all(&path).map_err(|source| BackupError::io("delete the old backup", &path, source))?;
        deleted.push(path);
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::BTreeMap;

    fn manifest(name: &str) -> Manifest {
        Manifest {
            format: super::super::manifest::FORMAT,
            name: name.to_owned(),
            created_at: String::new(),
            reason: "on demand".into(),
            migrator_version: "0".into(),
            plan_fingerprint: "sha256:ab".into(),
            history: BTreeMap::new(),
            parts: Vec::new(),
            server_side: Vec::new(),
            not_included: Vec::new(),
        }
    }

    fn scratch(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tfm-folder-{label}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn names_sort_by_time_and_carry_the_fingerprint_prefix() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 16, 45, 0).single().expect("time");
        assert_eq!(backup_name(at, "sha256:3f2a9c1b7d04ffff"), "2026-12-03T16-45-00.000Z-3f2a9c1b7d04");
        let later = at + chrono::Duration::milliseconds(5);
        assert!(backup_name(at, "sha256:ff") < backup_name(later, "sha256:00"));
    }

    #[test]
    fn only_a_finished_folder_is_complete_and_prune_keeps_the_newest() {
        let dir = scratch("prune");
        for second in 0..3 {
            let name = format!("2026-12-03T16-45-0{second}.000Z-ab");
            let backup = InProgress::start(&dir, &name).expect("start");
            backup.finish(&manifest(&name)).expect("finish");
        }
        let unfinished = InProgress::start(&dir, "2026-12-03T16-45-09.000Z-ab").expect("start");
        let listed = list(&dir).expect("list");
        assert_eq!(listed.len(), 4);
        assert!(matches!(listed[3], Listed::Incomplete { .. }), "{listed:?}");
        assert!(resolve(&dir, ".2026-12-03T16-45-09.000Z-ab.partial").is_err());
        let deleted = prune(&dir, 2).expect("prune");
        assert_eq!(deleted, vec![dir.join("2026-12-03T16-45-00.000Z-ab")]);
        assert!(unfinished.path.is_dir(), "prune leaves an incomplete folder alone");
        let (_, newest) = resolve(&dir, "2026-12-03T16-45-02.000Z-ab").expect("resolve by name");
        assert_eq!(newest.name, "2026-12-03T16-45-02.000Z-ab");
        let _ = fs::remove_dir_all(&dir);
    }
}
