//! SQLite: one thread owns the connection (rusqlite). Work from any task
//! queues up; the thread runs everything queued in one transaction, each
//! piece in a savepoint of its own (one that fails is undone alone), and
//! answers each piece only once that transaction is committed. Under load
//! that is one commit (one fsync) for many arrivals and records, and one
//! thread handoff per piece of work instead of one per statement.

use std::path::Path;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::db::{Arg, Db, DbFuture, Query, Row, Value, Want};
use crate::crm::store::StoreError;

/// At most this many pieces of work in one transaction.
const BATCH: usize = 256;

/// The shortest time between two commits while work keeps coming. Each
/// commit is an fsync and a WAL write of every page it changed: under load
/// fewer, larger commits cost much less than one every couple of
/// milliseconds, and a piece of work waits this long at most.
const COMMIT_INTERVAL: Duration = Duration::from_millis(10);

pub(super) struct SqliteThread {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl SqliteThread {
    /// Opens the (already migrated) database file and starts its thread.
    pub(super) fn open(path: &Path) -> Result<SqliteThread, StoreError> {
        let connection = Connection::open(path)?;
        // WAL: readers never block the writer; FULL: a commit is on disk
        // before anybody is told it happened. temp_store MEMORY keeps each
        // piece's savepoint journal in memory: otherwise it spills into a
        // temporary file, a write syscall for every page a piece touches.
        let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!("SQLite refused WAL mode (got {mode})")));
        }
        connection.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        connection.set_prepared_statement_cache_capacity(128);
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite".into())
            .spawn(move || serve(connection, queue))
            .map_err(|e| StoreError::Invalid(format!("cannot start the SQLite thread: {e}")))?;
        Ok(SqliteThread { jobs })
    }

    /// Runs `work` on the connection, in a transaction; returns once that
    /// transaction is committed (or the work's error, with nothing of it
    /// written).
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> DbFuture<'a, T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(Work { work, reply }))
            .map_err(|_| StoreError::Invalid("the SQLite thread has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Invalid("the SQLite thread has stopped".into()))?
    }
}

/// A piece of work waiting for the thread.
trait Job: Send {
    /// Runs it inside the open transaction; what to answer after the commit.
    fn run(self: Box<Self>, connection: &mut Connection) -> Box<dyn Answer>;
    /// The transaction could not even begin.
    fn refuse(self: Box<Self>, error: String);
}

/// A result held back until its transaction ends.
trait Answer: Send {
    fn send(self: Box<Self>, committed: Result<(), String>);
}

struct Work<T, F> {
    work: F,
    reply: tokio::sync::oneshot::Sender<Result<T, StoreError>>,
}

struct Done<T> {
    result: Result<T, StoreError>,
    reply: tokio::sync::oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Work<T, F>
where
    T: Send + 'static,
    F: for<'a> FnOnce(&'a mut dyn Db) -> DbFuture<'a, T> + Send + 'static,
{
    fn run(self: Box<Self>, connection: &mut Connection) -> Box<dyn Answer> {
        let result = match control(connection, "SAVEPOINT work") {
            Ok(()) => {
                let result = complete((self.work)(connection));
                let ended = match result {
                    Ok(_) => control(connection, "RELEASE work"),
                    Err(_) => {
                        control(connection, "ROLLBACK TO work").and_then(|()| control(connection, "RELEASE work"))
                    }
                };
                match ended {
                    Ok(()) => result,
                    Err(error) => Err(error.into()),
                }
            }
            Err(error) => Err(error.into()),
        };
        Box::new(Done {
            result,
            reply: self.reply,
        })
    }

    fn refuse(self: Box<Self>, error: String) {
        let _ = self.reply.send(Err(StoreError::Invalid(error)));
    }
}

impl<T: Send> Answer for Done<T> {
    fn send(self: Box<Self>, committed: Result<(), String>) {
        let result = match committed {
            Ok(()) => self.result,
            Err(error) => Err(StoreError::Invalid(format!("SQLite commit failed: {error}"))),
        };
        let _ = self.reply.send(result);
    }
}

/// A transaction-control statement, prepared once per connection: it runs
/// two or three times for every piece of work.
fn control(connection: &Connection, sql: &str) -> rusqlite::Result<()> {
    connection.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// The thread: a transaction for whatever has queued, until the store is dropped.
fn serve(mut connection: Connection, queue: mpsc::Receiver<Box<dyn Job>>) {
    let (mut last_commit, mut last_batch) = (Instant::now(), 0);
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        let gather_until = gather_until(last_commit, last_batch, Instant::now());
        while batch.len() < BATCH {
            let wait = gather_until.saturating_duration_since(Instant::now());
            match queue.recv_timeout(wait) {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = control(&connection, "BEGIN IMMEDIATE") {
            let error = format!("SQLite could not begin a transaction: {error}");
            for job in batch {
                job.refuse(error.clone());
            }
            continue;
        }
        last_batch = batch.len();
        let answers: Vec<Box<dyn Answer>> = batch.into_iter().map(|job| job.run(&mut connection)).collect();
        let committed = control(&connection, "COMMIT").map_err(|e| e.to_string());
        last_commit = Instant::now();
        if committed.is_err() {
            let _ = control(&connection, "ROLLBACK");
        }
        for answer in answers {
            answer.send(committed.clone());
        }
    }
}

/// Until when work joins the transaction being gathered. While work keeps
/// coming (the last transaction held more than one piece), work that comes
/// within COMMIT_INTERVAL of the last commit waits for the rest of it: a
/// busy store commits at most every interval. An idle store, or one client
/// writing one piece after another, commits at once.
fn gather_until(last_commit: Instant, last_batch: usize, now: Instant) -> Instant {
    if last_batch > 1 {
        last_commit + COMMIT_INTERVAL
    } else {
        now
    }
}

/// Drives work on this thread to its end: rusqlite never waits, so the
/// work's future is ready the first time it is polled.
fn complete<T>(mut work: DbFuture<'_, T>) -> Result<T, StoreError> {
    match work.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(StoreError::Invalid(
            "work on the SQLite thread waited for something else".into(),
        )),
    }
}

impl Db for Connection {
    fn run<'a>(&'a mut self, query: &'a Query<'a>, _: Want) -> DbFuture<'a, (Vec<Row>, u64)> {
        Box::pin(std::future::ready(run_statement(self, query)))
    }

    fn insert<'a>(&'a mut self, query: &'a Query<'a>) -> DbFuture<'a, i64> {
        let inserted = run_statement(self, query).map(|_| self.last_insert_rowid());
        Box::pin(std::future::ready(inserted))
    }
}

fn run_statement(connection: &Connection, query: &Query<'_>) -> Result<(Vec<Row>, u64), StoreError> {
    let mut statement = connection.prepare_cached(&query.sql)?;
    // `$N` is the Nth argument wherever it stands (SQLite numbers
    // parameters in order of first appearance, not by their digits).
    for index in 1..=statement.parameter_count() {
        let name = statement.parameter_name(index).unwrap_or_default();
        let arg = name
            .strip_prefix('$')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| query.args.get(n.wrapping_sub(1)))
            .ok_or_else(|| StoreError::Invalid(format!("no argument for {name:?} in: {}", query.sql)))?;
        match arg {
            Arg::Int(i) => statement.raw_bind_parameter(index, *i)?,
            Arg::Text(text) => statement.raw_bind_parameter(index, text.as_deref())?,
        }
    }
    let columns = statement.column_count();
    let mut rows = Vec::new();
    let mut results = statement.raw_query();
    while let Some(row) = results.next()? {
        let mut values = Vec::with_capacity(columns);
        for column in 0..columns {
            values.push(match row.get_ref(column)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Int(i),
                ValueRef::Real(r) => Value::Real(r),
                ValueRef::Text(t) | ValueRef::Blob(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            });
        }
        rows.push(Row(values));
    }
    drop(results);
    let changed = if statement.readonly() { 0 } else { connection.changes() };
    Ok((rows, changed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::sql::db::query;

    #[test]
    fn only_a_busy_store_waits_for_more_work_before_committing() {
        let committed = Instant::now();
        let soon = committed + Duration::from_millis(1);
        assert_eq!(gather_until(committed, 1, soon), soon, "a lone piece commits at once");
        assert_eq!(gather_until(committed, 0, soon), soon);
        assert_eq!(
            gather_until(committed, 7, soon),
            committed + COMMIT_INTERVAL,
            "after a batch, the next waits out the interval"
        );
        let later = committed + 2 * COMMIT_INTERVAL;
        assert!(
            gather_until(committed, 7, later) < later,
            "an interval already over waits no more"
        );
    }

    #[tokio::test]
    async fn work_that_fails_is_undone_alone_and_the_rest_is_committed() {
        let dir = tempfile::tempdir().unwrap();
        let thread = SqliteThread::open(&dir.path().join("t.db")).unwrap();
        thread
            .run(|db| {
                Box::pin(async move {
                    query("CREATE TABLE t (v INTEGER NOT NULL)").execute(db).await?;
                    Ok(())
                })
            })
            .await
            .unwrap();
        let insert = |v: i64, fail: bool| {
            thread.run(move |db| {
                Box::pin(async move {
                    query("INSERT INTO t (v) VALUES ($1)").bind(v).execute(db).await?;
                    if fail {
                        return Err(StoreError::Invalid("refused".into()));
                    }
                    Ok(v)
                })
            })
        };
        // Queued together: likely one transaction, each in its savepoint.
        let (a, b, c) = tokio::join!(insert(1, false), insert(2, true), insert(3, false));
        assert_eq!(a.unwrap(), 1);
        assert!(b.is_err());
        assert_eq!(c.unwrap(), 3);
        let rows = thread
            .run(|db| Box::pin(async move { query("SELECT v FROM t ORDER BY v").fetch_all(db).await }))
            .await
            .unwrap();
        let values: Vec<i64> = rows.iter().map(|r| r.try_get(0).unwrap()).collect();
        assert_eq!(values, vec![1, 3]);
        // The arguments go by their number, wherever they stand.
        let row = thread
            .run(|db| Box::pin(async move { query("SELECT $2 - $1, $1").bind(10).bind(15).fetch_one(db).await }))
            .await
            .unwrap();
        assert_eq!(
            (row.try_get::<i64>(0).unwrap(), row.try_get::<i64>(1).unwrap()),
            (5, 10)
        );
    }
}
