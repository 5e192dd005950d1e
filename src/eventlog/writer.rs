//! Appends records to the event log file from a thread of its own, so the
//! engine task never waits for the disk. The thread writes whatever has queued
//! in one write, then rests a few milliseconds so that under load the engine
//! task does not wake it for every record; the file is synced to disk every
//! second and when the log closes.

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

/// How long the thread rests after a write, gathering what comes meanwhile.
const GATHER: Duration = Duration::from_millis(5);

/// Written at once when this much has gathered, rest or not.
const CHUNK: usize = 256 * 1024;

fn write_lines(mut file: File, path: PathBuf, lines: mpsc::Receiver<String>) {
    let mut last_sync = Instant::now();
    let mut unsynced = false;
    let mut chunk = String::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                chunk.push_str(&line);
                while chunk.len() < CHUNK
                    && let Ok(line) = lines.try_recv()
                {
                    chunk.push_str(&line);
                }
                if let Err(error) = file.write_all(chunk.as_bytes()) {
                    tracing::error!(%error, path = %path.display(), "event log write failed");
                }
                chunk.clear();
                unsynced = true;
                thread::sleep(GATHER);
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
