//! `manifest.json`, the last file written into a backup: what the backup holds (one [`Part`] per
//! file, with its size and SHA-256), what the servers had applied when it was taken, and what it
//! does not hold. A backup's files are trusted only when they match it ([`Manifest::verify`]).
//!
//! It never holds a password: servers are named by their `describe()` form. A new kind of server
//! (MongoDB: collections' options, validators and indexes) adds parts with its own `target` and
//! `kind`, and older readers list them without knowing them.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::BackupError;

/// The file name of the manifest inside a backup folder.
pub const FILE_NAME: &str = "manifest.json";
/// Bumped when a reader of an older release could misread a newer manifest.
pub const FORMAT: u32 = 1;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The folder's name: UTC time and plan fingerprint prefix.
    pub name: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// `before migrate`, `on demand`, `safety backup before restoring <name>`.
    pub reason: String,
    /// This migrator's version (`CARGO_PKG_VERSION` of the runtime).
    pub migrator_version: String,
    /// The plan compiled into the binary that took the backup (`sha256:…`).
    pub plan_fingerprint: String,
    /// Per SQL target (`postgres`, `clickhouse`): the versions its history recorded as applied
    /// when the backup was taken, ascending.
    pub history: BTreeMap<String, Vec<u64>>,
    /// The files of the backup.
    pub parts: Vec<Part>,
    /// Snapshots kept on a server rather than in this folder (ClickHouse `FREEZE`).
    #[serde(default)]
    pub server_side: Vec<ServerSnapshot>,
    /// What this backup does not hold, one sentence each.
    #[serde(default)]
    pub not_included: Vec<String>,
}

/// One file of a backup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// `postgres`, `clickhouse`, `kafka` (later `mongodb`).
    pub target: String,
    /// What the file is: `pg_dump-custom`, `clickhouse-schema`, `kafka-topics`.
    pub kind: String,
    /// The file name inside the backup folder.
    pub file: String,
    pub bytes: u64,
    /// `sha256:<hex>` of the file.
    pub sha256: String,
    /// The server it came from, without password (`postgres://app@db:5432/trading`).
    pub server: String,
}

/// A snapshot the server keeps itself: ClickHouse's `ALTER TABLE … FREEZE WITH NAME '<name>'`
/// hard-links each table's parts under `<clickhouse path>/shadow/<name>/`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSnapshot {
    pub target: String,
    pub kind: String,
    /// The name given to the snapshot on the server.
    pub name: String,
    pub server: String,
    pub database: String,
    /// The tables snapshotted.
    pub tables: Vec<String>,
}

impl Manifest {
    pub fn read(folder: &Path) -> Result<Manifest, BackupError> {
        let path = folder.join(FILE_NAME);
        let text = std::fs::read_to_string(&path).map_err(|source| BackupError::io("read", &path, source))?;
        serde_json::from_str(&text).map_err(|error| BackupError::Manifest { path, error: error.to_string() })
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a manifest is plain data");
        text.push('\n');
        text
    }

    /// Checks every part's size and SHA-256 against the files in `folder`; the first mismatch
    /// or missing file is the error.
    pub fn verify(&self, folder: &Path) -> Result<(), BackupError> {
        if self.format > FORMAT {
            return Err(BackupError::Manifest {
                path: folder.join(FILE_NAME),
                error: format!(
                    "format {} is newer than this migrator reads ({FORMAT}); use the release that took it",
                    self.format
                ),
            });
        }
        for part in &self.parts {
            let path = folder.join(&part.file);
            let (bytes, sha256) = file_digest(&path)?;
            if bytes != part.bytes || sha256 != part.sha256 {
                return Err(BackupError::Corrupt {
                    path,
                    expected: format!("{} bytes, {}", part.bytes, part.sha256),
                    found: format!("{bytes} bytes, {sha256}"),
                });
            }
        }
        Ok(())
    }

    pub fn part(&self, target: &str) -> Option<&Part> {
        self.parts.iter().find(|part| part.target == target)
    }

    /// The applied versions recorded for `target`, if it was backed up.
    pub fn head(&self, target: &str) -> Option<u64> {
        self.history.get(target).map(|versions| versions.last().copied().unwrap_or(0))
    }
}

/// The size and `sha256:<hex>` of a file, read in blocks (a dump may be large).
pub fn file_digest(path: &Path) -> Result<(u64, String), BackupError> {
    let mut file = std::fs::File::open(path).map_err(|source| BackupError::io("read", path, source))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(|source| BackupError::io("read", path, source))?;
        if read == 0 {
            break;
        }
        bytes += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((bytes, format!("sha256:{}", hex::encode(hasher.finalize()))))
}

/// A part for a file already written into `folder`.
pub fn part_for(folder: &Path, target: &str, kind: &str, file: &str, server: String) -> Result<Part, BackupError> {
    let path: PathBuf = folder.join(file);
    let (bytes, sha256) = file_digest(&path)?;
    Ok(Part { target: target.to_owned(), kind: kind.to_owned(), file: file.to_owned(), bytes, sha256, server })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(folder: &Path) -> Manifest {
        std::fs::write(folder.join("postgres.dump"), b"dump bytes").expect("write");
        let part = part_for(folder, "postgres", "pg_dump-custom", "postgres.dump", "postgres://app@db:5432/x".into())
            .expect("part");
        Manifest {
            format: FORMAT,
            name: "n".into(),
            created_at: "2026-12-03T16:00:00Z".into(),
            reason: "on demand".into(),
            migrator_version: "0.1.0".into(),
            plan_fingerprint: "sha256:00".into(),
            history: BTreeMap::from([("postgres".to_owned(), vec![1, 2, 3])]),
            parts: vec![part],
            server_side: Vec::new(),
            not_included: Vec::new(),
        }
    }

    #[test]
    fn a_matching_folder_verifies_and_any_changed_byte_is_refused() {
        let folder = std::env::temp_dir().join(format!("tfm-manifest-test-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("mkdir");
        let manifest = manifest(&folder);
        assert_eq!(manifest.parts[0].bytes, 10);
        manifest.verify(&folder).expect("intact");
        std::fs::write(folder.join("postgres.dump"), b"dump bytez").expect("write");
        let error = manifest.verify(&folder).expect_err("same size, other bytes").to_string();
        assert!(error.contains("postgres.dump") && error.contains("does not match"), "{error}");
        std::fs::remove_file(folder.join("postgres.dump")).expect("rm");
        assert!(manifest.verify(&folder).is_err(), "a missing file is refused");
        let _ = std::fs::remove_dir_all(&folder);
    }

    #[test]
    fn the_manifest_round_trips_through_json() {
        let folder = std::env::temp_dir().join(format!("tfm-manifest-json-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("mkdir");
        let manifest = manifest(&folder);
        let read: Manifest = serde_json::from_str(&manifest.to_json()).expect("parse");
        assert_eq!(read, manifest);
        assert_eq!(read.head("postgres"), Some(3));
        assert_eq!(read.head("clickhouse"), None);
        let _ = std::fs::remove_dir_all(&folder);
    }
}
