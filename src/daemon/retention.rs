//! Retention of recordings: with `[storage] recordings_keep_days` or
//! `voicemail_keep_days`, finished recordings (`r<request>.wav`) older than
//! that are deleted, at start and then hourly. Age is the file's
//! modification time, i.e. when the call or voicemail ended. Files still
//! being written (`….wav.part`) and anything not named like a recording
//! are left alone; the settings are read again at each sweep, so a reload
//! applies from the next one.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use crate::config::Config;

/// How often the folders are looked at.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

const DAY: Duration = Duration::from_secs(24 * 3600);

/// What one sweep of one folder did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub deleted: usize,
    pub failed: usize,
}

/// Deletes the recordings in `directory` last written before `now - keep`.
/// A missing folder has nothing to delete.
pub fn sweep(directory: &Path, keep: Duration, now: SystemTime) -> Swept {
    let mut swept = Swept::default();
    let Some(cutoff) = now.checked_sub(keep) else {
        return swept;
    };
    let Ok(entries) = std::fs::read_dir(directory) else {
        return swept;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !is_recording_name(&path) {
            continue;
        }
        let Ok(metadata) = entry.metadata() else { continue };
        let Ok(written) = metadata.modified() else { continue };
        if !metadata.is_file() || written >= cutoff {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => swept.deleted += 1,
            Err(error) => {
                tracing::warn!(file = %path.display(), %error, "an expired recording could not be deleted");
                swept.failed += 1;
            }
        }
    }
    swept
}

/// `r<digits>.wav`, as recordings and voicemails are named.
fn is_recording_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix('r')?.strip_suffix(".wav"))
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// Sweeps both folders now and then every hour, for as long as the daemon runs.
pub fn spawn(config: Arc<ArcSwap<Config>>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            let current = config.load_full();
            let storage = &current.storage;
            let folders = [
                ("call", storage.recordings_dir(), &storage.recordings_keep_days),
                ("voicemail", storage.voicemail_dir(), &storage.voicemail_keep_days),
            ];
            for (kind, directory, keep_days) in folders {
                let Some(days) = keep_days.as_ref().map(|d| *d.get_ref()) else {
                    continue;
                };
                let keep = DAY * days;
                let swept = tokio::task::spawn_blocking(move || sweep(&directory, keep, SystemTime::now()))
                    .await
                    .unwrap_or_default();
                metrics::counter!("acdd_recordings_deleted_total", "kind" => kind).increment(swept.deleted as u64);
                if swept.deleted > 0 || swept.failed > 0 {
                    tracing::info!(
                        kind,
                        days,
                        deleted = swept.deleted,
                        failed = swept.failed,
                        "expired recordings deleted"
                    );
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file_written(path: &Path, at: SystemTime) {
        let file = std::fs::File::create(path).unwrap();
        file.set_modified(at).unwrap();
    }

    #[test]
    fn only_finished_recordings_older_than_the_limit_are_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let old = now - DAY * 31;
        let young = now - DAY * 29;
        for name in ["r1.wav", "r22.wav.part", "notes.wav", "r.wav", "rx1.wav"] {
            file_written(&dir.path().join(name), old);
        }
        file_written(&dir.path().join("r2.wav"), young);
        std::fs::create_dir(dir.path().join("r3.wav")).unwrap();

        let swept = sweep(dir.path(), DAY * 30, now);
        assert_eq!(swept, Swept { deleted: 1, failed: 0 });
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["notes.wav", "r.wav", "r2.wav", "r22.wav.part", "r3.wav", "rx1.wav"]
        );

        // A day later r2 is past the limit too.
        assert_eq!(sweep(dir.path(), DAY * 30, now + DAY * 2).deleted, 1);
        assert!(!dir.path().join("r2.wav").exists());
    }

    #[test]
    fn a_missing_folder_or_a_limit_before_the_epoch_deletes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            sweep(&dir.path().join("absent"), DAY, SystemTime::now()),
            Swept::default()
        );
        file_written(&dir.path().join("r1.wav"), SystemTime::UNIX_EPOCH);
        assert_eq!(sweep(dir.path(), DAY, SystemTime::UNIX_EPOCH), Swept::default());
        assert!(dir.path().join("r1.wav").exists());
    }
}
