//! The SQL store: one implementation of `Store` for SQLite (embedded default,
//! WAL, served by a thread of its own through rusqlite) and PostgreSQL (by
//! URL, through sqlx), both running the very same queries (`db.rs`). Split
//! by concern: arrivals, records of what the engine did, and look-ups.

mod customers;
mod db;
mod intake;
mod lookup;
mod records;
mod sqlite;

use std::path::Path;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Row};

use self::db::{Db, DbFuture};
use self::records::STATUS;
use self::sqlite::SqliteThread;
use super::migrations::{Dialect, Embedded};
use super::model::{
    CallbackTask, Conversation, CustomerCard, Lead, Message, Millis, NewRequest, OpenRequest, Record, RequestEnd,
    RequestSummary, Stored,
};
use super::store::{CustomerKey, Store, StoreError, StoreFuture};
use crate::config::schema::Storage;

pub struct SqlStore {
    backend: Backend,
    /// PostgreSQL: arrivals one at a time, so that two first messages of one
    /// chat user at once do not open two conversations (read-committed
    /// transactions would not see each other's new rows). SQLite's thread
    /// runs one piece of work at a time anyway.
    arrivals: tokio::sync::Mutex<()>,
}

enum Backend {
    /// The connection lives on its own thread (`sqlite.rs`).
    Sqlite(SqliteThread),
    Postgres(AnyPool),
}

impl SqlStore {
    /// Opens the configured database (PostgreSQL when a URL is set, SQLite
    /// otherwise, creating the file and its folder) and migrates it.
    pub async fn open(storage: &Storage) -> Result<SqlStore, StoreError> {
        install_default_drivers();
        let backend = match &storage.postgres {
            Some(url) => {
                let pool = AnyPoolOptions::new().max_connections(8).connect(url).await?;
                Migrator::new(Embedded(Dialect::Postgres)).await?.run(&pool).await?;
                Backend::Postgres(pool)
            }
            None => {
                let path: &Path = &storage.sqlite;
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder).map_err(|e| {
                        StoreError::Invalid(format!("cannot create the folder {}: {e}", folder.display()))
                    })?;
                }
                // Migrated through sqlx, then served by the SQLite thread.
                let url = format!("sqlite://{}?mode=rwc", path.display());
                let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await?;
                let mode: String = sqlx::query("PRAGMA journal_mode = WAL")
                    .fetch_one(&pool)
                    .await?
                    .try_get(0)?;
                if !mode.eq_ignore_ascii_case("wal") {
                    return Err(StoreError::Invalid(format!("SQLite refused WAL mode (got {mode})")));
                }
                Migrator::new(Embedded(Dialect::Sqlite)).await?.run(&pool).await?;
                pool.close().await;
                Backend::Sqlite(SqliteThread::open(path)?)
            }
        };
        Ok(SqlStore {
            backend,
            arrivals: tokio::sync::Mutex::new(()),
        })
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `work` in one write transaction: all of it is written, or none.
    async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> DbFuture<'a, T> + Send + 'static,
    {
        self.transaction("BEGIN", work).await
    }

    /// Runs `work` on one snapshot of the database: it never sees half of
    /// what a transaction wrote.
    async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> DbFuture<'a, T> + Send + 'static,
    {
        self.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", work)
            .await
    }

    /// `work` in one transaction: PostgreSQL's opened with `begin`; SQLite's
    /// thread runs every piece of work in a write transaction of its own.
    async fn transaction<T, F>(&self, begin: &'static str, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> DbFuture<'a, T> + Send + 'static,
    {
        match &self.backend {
            Backend::Sqlite(thread) => thread.run(work).await,
            Backend::Postgres(pool) => {
                let mut tx = pool.begin_with(begin).await?;
                let out = work(&mut *tx).await?;
                tx.commit().await?;
                Ok(out)
            }
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
    fn record_call_out(&self, phone: String, operator: String, at: Millis) -> StoreFuture<'_, i64> {
        Box::pin(self.record_call_out_in(phone, operator, at))
    }
    fn request_callback(&self, request: i64, reason: String, at: Millis) -> StoreFuture<'_, ()> {
        Box::pin(self.record_callback_request(request, reason, at))
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
    fn operator_statuses(&self) -> StoreFuture<'_, Vec<(String, String)>> {
        Box::pin(self.load_state(STATUS))
    }
    fn save_operator_statuses(&self, statuses: Vec<(String, String)>) -> StoreFuture<'_, ()> {
        Box::pin(self.store_state(STATUS, statuses))
    }
}

#[cfg(test)]
mod tests;
