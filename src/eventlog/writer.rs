//! Appends records to the event log file from a thread of its own, so the
//! engine task never waits for the disk. Each record is written and flushed as
//! it comes; the file is synced to disk every second and when the log closes.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::Record;

pub struct EventLog {
    lines: Option<mpsc::Sender<String>>,
    writer: Option<thread::JoinHandle<()>>,
}

impl EventLog {
    /// Opens (creating folders and the file as needed) for appending.
    pub fn open(path: &Path) -> std::io::Result<EventLog> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let (lines, receiver) = mpsc::channel();
        let path = path.to_path_buf();
        let writer = thread::Builder::new()
            .name("event-log".into())
            .spawn(move || write_lines(file, path, receiver))?;
        Ok(EventLog {
            lines: Some(lines),
            writer: Some(writer),
        })
    }

    pub fn append(&self, record: &Record) {
        if let Some(lines) = &self.lines {
            let _ = lines.send(record.to_line());
        }
    }
}

impl Drop for EventLog {
    /// Writes everything still queued and syncs before returning.
    fn drop(&mut self) {
        self.lines.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn write_lines(mut file: File, path: PathBuf, lines: mpsc::Receiver<String>) {
    let mut last_sync = Instant::now();
    let mut unsynced = false;
    loop {
        match lines.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                if let Err(error) = file.write_all(line.as_bytes()) {
                    tracing::error!(%error, path = %path.display(), "event log write failed");
                }
                unsynced = true;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if unsynced && last_sync.elapsed() >= Duration::from_secs(1) {
            let _ = file.sync_data();
            last_sync = Instant::now();
            unsynced = false;
        }
    }
    let _ = file.sync_data();
}
