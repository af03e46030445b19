//! Where trimmed audit records go: the log keeps the newest `audit_limit` records, and each one
//! trimmed past it is appended to `DATA_DIR/audit-archive.jsonl` (one record a line, as JSON;
//! mode 0600) instead of vanishing. At `FILE_BYTES` the file is rotated to `.1`, `.1` to `.2`
//! and so on; `KEPT` old files are kept. A record that cannot be written (disk trouble) is
//! counted as dropped, for `/metrics`, and logged once per failure streak.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// An archive file is rotated when it reaches this size.
pub const FILE_BYTES: u64 = 64 << 20;
/// Rotated files kept besides the current one.
pub const KEPT: usize = 4;
pub const FILE_NAME: &str = "audit-archive.jsonl";

pub(super) struct Archive {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    file_bytes: u64,
    failing: bool,
}

impl Archive {
    pub(super) fn new(dir: &Path) -> Archive {
        Archive::with_size(dir, FILE_BYTES)
    }

    pub(super) fn with_size(dir: &Path, file_bytes: u64) -> Archive {
        Archive {
            path: dir.join(FILE_NAME),
            file: None,
            size: 0,
            file_bytes,
            failing: false,
        }
    }

    /// Appends one record (its JSON); false if it could not be written.
    pub(super) fn append(&mut self, record: &[u8]) -> bool {
        match self.try_append(record) {
            Ok(()) => {
                self.failing = false;
                true
            }
            Err(e) => {
                if !self.failing {
                    tracing::warn!(
                        "audit records past the limit cannot be archived in {}: {e}; they are dropped (counted in havip_audit_records_dropped_total)",
                        self.path.display()
                    );
                }
                self.failing = true;
                self.file = None;
                false
            }
        }
    }

    fn try_append(&mut self, record: &[u8]) -> std::io::Result<()> {
        if self.file.is_some() && self.size >= self.file_bytes {
            self.file = None;
            self.rotate()?;
        }
        let file = match &mut self.file {
            Some(file) => file,
            None => {
                use std::os::unix::fs::OpenOptionsExt;
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(&self.path)?;
                self.size = file.metadata()?.len();
                self.file.insert(file)
            }
        };
        let mut line = Vec::with_capacity(record.len() + 1);
        line.extend_from_slice(record);
        line.push(b'\n');
        file.write_all(&line)?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn rotate(&self) -> std::io::Result<()> {
        let numbered = |n: usize| PathBuf::from(format!("{}.{n}", self.path.display()));
        let _ = std::fs::remove_file(numbered(KEPT));
        for n in (1..KEPT).rev() {
            if numbered(n).exists() {
                std::fs::rename(numbered(n), numbered(n + 1))?;
            }
        }
        std::fs::rename(&self.path, numbered(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_appended_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let mut archive = Archive::with_size(dir.path(), 100);
        // 11 bytes a line: a file holds 10 lines, so 60 lines rotate 5 times
        for i in 0..60 {
            assert!(archive.append(format!("{{\"id\":{i:03}}}").as_bytes()));
        }
        let current = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert!(current.ends_with("{\"id\":059}\n"), "{current}");
        let first = std::fs::read_to_string(dir.path().join(format!("{FILE_NAME}.1"))).unwrap();
        assert!(first.lines().all(|l| l.starts_with("{\"id\":")));
        assert!(dir.path().join(format!("{FILE_NAME}.{KEPT}")).exists());
        assert!(!dir
            .path()
            .join(format!("{FILE_NAME}.{}", KEPT + 1))
            .exists());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
