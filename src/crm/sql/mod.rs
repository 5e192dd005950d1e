//! The SQL store: one implementation of `Store` for SQLite (embedded default,
//! WAL) and PostgreSQL (by URL), through sqlx's `Any` driver so that both run
//! the very same queries. Split by concern: arrivals, records of what the
//! engine did, and look-ups.

mod customers;
mod intake;
mod lookup;
mod records;

use std::path::Path;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

use super::migrations::{Dialect, Embedded};
use super::model::{
    CallbackTask, Conversation, CustomerCard, Lead, Message, Millis, NewRequest, OpenRequest, Record, RequestEnd,
    RequestSummary, Stored,
};
use super::store::{CustomerKey, Store, StoreError, StoreFuture};
use crate::config::schema::Storage;

pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    /// Arrivals one at a time: two first messages of one chat user at once
    /// must not open two conversations (PostgreSQL's read-committed
    /// transactions would not see each other's new rows).
    arrivals: tokio::sync::Mutex<()>,
    /// SQLite: one write transaction at a time in this process. SQLite has a
    /// single writer; a second connection's `BEGIN IMMEDIATE` would otherwise
    /// meet SQLITE_BUSY and sleep in SQLite's busy handler (1 to 100 ms a
    /// turn), while waiting here resumes as soon as the writer commits.
    writer: tokio::sync::Mutex<()>,
    /// Arrivals waiting to be stored: the recorder's writes give way to them
    /// (a caller waits for the arrival; nobody waits for the recorder).
    arrivals_waiting: std::sync::atomic::AtomicUsize,
}

/// A write transaction, holding the SQLite writer lock until it ends.
pub(super) struct WriteTx<'a> {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _writer: Option<tokio::sync::MutexGuard<'a, ()>>,
}

impl WriteTx<'_> {
    pub(super) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

impl SqlStore {
    /// Opens the configured database (PostgreSQL when a URL is set, SQLite
    /// otherwise, creating the file and its folder) and migrates it.
    pub async fn open(storage: &Storage) -> Result<SqlStore, StoreError> {
        install_default_drivers();
        let (url, dialect, connections) = match &storage.postgres {
            Some(url) => (url.clone(), Dialect::Postgres, 8),
            None => {
                let path: &Path = &storage.sqlite;
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(|e| {
                        StoreError::Invalid(format!("cannot create the folder {}: {e}", folder.display()))
                    })?;
                }
                (format!("sqlite://{}?mode=rwc", path.display()), Dialect::Sqlite, 4)
            }
        };
        let pool = AnyPoolOptions::new().max_connections(connections).connect(&url).await?;
        if dialect == Dialect::Sqlite {
            // Persistent in the file: readers never block the one writer, and
            // a commit is on disk before it returns.
            let mode: String = sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_one(&pool)
                .await?
                .try_get(0)?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StoreError::Invalid(format!("SQLite refused WAL mode (got {mode})")));
            }
        }
        Migrator::new(Embedded(dialect)).await?.run(&pool).await?;
        Ok(SqlStore {
            pool,
            dialect,
            arrivals: tokio::sync::Mutex::new(()),
            writer: tokio::sync::Mutex::new(()),
            arrivals_waiting: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A transaction that only reads, seeing one snapshot across statements.
    async fn read(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => self.pool.begin().await,
            Dialect::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
    }

    /// A transaction that will write. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred one that reads first could not write
    /// after another connection did, and would fail instead of waiting.
    /// SQLite: the in-process writer lock first (see `writer`).
    async fn write(&self) -> Result<WriteTx<'_>, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => {
                let writer = self.writer.lock().await;
                Ok(WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _writer: Some(writer),
                })
            }
            Dialect::Postgres => Ok(WriteTx {
                tx: self.pool.begin().await?,
                _writer: None,
            }),
        }
    }

    /// A write transaction for bookkeeping that nobody waits for (the
    /// recorder): with SQLite it lets every arrival waiting to be stored go
    /// first.
    async fn write_after_arrivals(&self) -> Result<WriteTx<'_>, sqlx::Error> {
        use std::sync::atomic::Ordering;
        match self.dialect {
            Dialect::Sqlite => loop {
                let writer = self.writer.lock().await;
                if self.arrivals_waiting.load(Ordering::Acquire) == 0 {
                    return Ok(WriteTx {
                        tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                        _writer: Some(writer),
                    });
                }
                // Back in the writer lock's queue, behind the arrivals.
                drop(writer);
                tokio::task::yield_now().await;
            },
            Dialect::Postgres => self.write().await,
        }
    }

    /// For a single statement that writes outside a transaction: the SQLite
    /// writer lock (see `writer`), nothing for PostgreSQL.
    async fn single_write(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.dialect {
            Dialect::Sqlite => Some(self.writer.lock().await),
            Dialect::Postgres => None,
        }
    }
}

impl Store for SqlStore {
    fn receive(&self, new: NewRequest) -> StoreFuture<'_, Stored> {
        Box::pin(self.receive_request(new))
    }
    fn open_requests(&self) -> StoreFuture<'_, Vec<OpenRequest>> {
        Box::pin(self.list_open_requests())
    }
    fn assigned(&self, request: i64, operator: String, at: Millis) -> StoreFuture<'_, ()> {
        Box::pin(self.record_assigned(request, operator, at))
    }
    fn transferred(&self, request: i64, from: String, at: Millis) -> StoreFuture<'_, ()> {
        Box::pin(self.record_transferred(request, from, at))
    }
    fn ended(&self, request: i64, end: RequestEnd, at: Millis) -> StoreFuture<'_, ()> {
        Box::pin(self.record_ended(request, end, at))
    }
    fn set_responsible(&self, request: i64, operator: String, at: Millis) -> StoreFuture<'_, ()> {
        Box::pin(self.record_responsible(request, operator, at))
    }
    fn record(&self, records: Vec<Record>) -> StoreFuture<'_, ()> {
        Box::pin(self.record_batch(records))
    }
    fn reply(&self, conversation: i64, operator: String, body: String, at: Millis) -> StoreFuture<'_, Message> {
        Box::pin(self.record_reply(conversation, operator, body, at))
    }
    fn thread_ids(&self, conversation: i64) -> StoreFuture<'_, Vec<String>> {
        Box::pin(self.list_thread_ids(conversation))
    }
    fn remember_mail_id(&self, conversation: i64, message_id: String) -> StoreFuture<'_, ()> {
        Box::pin(self.record_mail_id(conversation, message_id))
    }
    fn conversation(&self, id: i64) -> StoreFuture<'_, Option<Conversation>> {
        Box::pin(self.find_conversation(id))
    }
    fn messages(&self, conversation: i64) -> StoreFuture<'_, Vec<Message>> {
        Box::pin(self.list_messages(conversation))
    }
    fn request_summary(&self, request: i64) -> StoreFuture<'_, Option<RequestSummary>> {
        Box::pin(self.summarise_request(request))
    }
    fn customer(&self, key: CustomerKey) -> StoreFuture<'_, Option<CustomerCard>> {
        Box::pin(self.find_customer(key))
    }
    fn lead(&self, id: i64) -> StoreFuture<'_, Option<Lead>> {
        Box::pin(self.find_lead(id))
    }
    fn open_callbacks(&self) -> StoreFuture<'_, Vec<CallbackTask>> {
        Box::pin(self.list_open_callbacks())
    }
    fn finish_callback(&self, id: i64, operator: String, at: Millis) -> StoreFuture<'_, bool> {
        Box::pin(self.record_callback_done(id, operator, at))
    }
    fn attach_recording(&self, request: i64, link: String, at: Millis) -> StoreFuture<'_, ()> {
        Box::pin(self.record_recording(request, link, at))
    }
    fn rotation(&self) -> StoreFuture<'_, Vec<(String, String)>> {
        Box::pin(self.load_rotation())
    }
    fn save_rotation(&self, pointers: Vec<(String, String)>) -> StoreFuture<'_, ()> {
        Box::pin(self.store_rotation(pointers))
    }
}

#[cfg(test)]
mod tests;
