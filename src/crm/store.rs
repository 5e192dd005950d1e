//! The one trait every storage backend implements. Adapters and the API hold
//! an `Arc<dyn Store>`; `sql::SqlStore` serves SQLite and PostgreSQL alike.
//! Every method is one transaction: it either happens whole or not at all.

use std::future::Future;
use std::pin::Pin;

use super::model::{
    CallbackTask, Conversation, CustomerCard, Lead, Message, Millis, NewRequest, OpenRequest, Record, RequestEnd,
    RequestSummary, Stored,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage: {0}")]
    Database(#[from] sqlx::Error),
    #[error("storage (SQLite): {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("storage migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Invalid(String),
}

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// How to find a customer from the admin API.
#[derive(Clone, Debug)]
pub enum CustomerKey {
    Id(i64),
    /// An identity kind (`phone`, `email`, `chat`) and its normalised value.
    Identity(String, String),
}

pub trait Store: Send + Sync + 'static {
    /// Stores an incoming request (customer, identities, conversation,
    /// message, lead, request, activity) before anybody is told of it.
    fn receive(&self, new: NewRequest) -> StoreFuture<'_, Stored>;

    /// Requests not finished yet, oldest first: what the engine must hold.
    fn open_requests(&self) -> StoreFuture<'_, Vec<OpenRequest>>;

    /// The request is assigned to the operator.
    fn assigned(&self, request: i64, operator: String, at: Millis) -> StoreFuture<'_, ()>;

    /// The request moved away from the operator (transfer).
    fn transferred(&self, request: i64, from: String, at: Millis) -> StoreFuture<'_, ()>;

    /// The request is finished; its conversation closes with it.
    fn ended(&self, request: i64, end: RequestEnd, at: Millis) -> StoreFuture<'_, ()>;

    /// The request's customer gets a new responsible operator.
    fn set_responsible(&self, request: i64, operator: String, at: Millis) -> StoreFuture<'_, ()>;

    /// What the recorder saw, in order, in one transaction: under load it
    /// writes everything queued since its last write at once.
    fn record(&self, records: Vec<Record>) -> StoreFuture<'_, ()>;

    /// An operator's reply, stored before it is delivered.
    fn reply(&self, conversation: i64, operator: String, body: String, at: Millis) -> StoreFuture<'_, Message>;

    /// The Message-IDs of a mail thread, oldest first.
    fn thread_ids(&self, conversation: i64) -> StoreFuture<'_, Vec<String>>;

    /// Remembers the Message-ID of a mail sent in the thread, so replies to it find the thread.
    fn remember_mail_id(&self, conversation: i64, message_id: String) -> StoreFuture<'_, ()>;

    fn conversation(&self, id: i64) -> StoreFuture<'_, Option<Conversation>>;

    fn messages(&self, conversation: i64) -> StoreFuture<'_, Vec<Message>>;

    fn request_summary(&self, request: i64) -> StoreFuture<'_, Option<RequestSummary>>;

    fn customer(&self, key: CustomerKey) -> StoreFuture<'_, Option<CustomerCard>>;

    fn lead(&self, id: i64) -> StoreFuture<'_, Option<Lead>>;

    /// Callback tasks not done yet, oldest first.
    fn open_callbacks(&self) -> StoreFuture<'_, Vec<CallbackTask>>;

    /// An operator reached `phone` (a normalised number) from their own
    /// phone: the customer with that number, created if unknown, gets an
    /// activity "called by OPERATOR". Returns the customer's id.
    fn record_call_out(&self, phone: String, operator: String, at: Millis) -> StoreFuture<'_, i64>;

    /// The caller of `request` asked to be called back: a callback task for
    /// its customer (the request itself ends as the engine says).
    fn request_callback(&self, request: i64, reason: String, at: Millis) -> StoreFuture<'_, ()>;

    /// Marks a callback task done; false if there is no such open task.
    fn finish_callback(&self, id: i64, operator: String, at: Millis) -> StoreFuture<'_, bool>;

    /// Links a recording (a voicemail file or URL) to the request's callback
    /// task and activity history.
    fn attach_recording(&self, request: i64, link: String, at: Millis) -> StoreFuture<'_, ()>;

    /// Rotation pointers (queue, operator) as last saved.
    fn rotation(&self) -> StoreFuture<'_, Vec<(String, String)>>;

    /// Operators' presence and workday (operator, JSON text) as last saved,
    /// so a restart does not log everybody out.
    fn operator_statuses(&self) -> StoreFuture<'_, Vec<(String, String)>>;

    /// Saves these operators' statuses (operator, JSON text).
    fn save_operator_statuses(&self, statuses: Vec<(String, String)>) -> StoreFuture<'_, ()>;

    fn save_rotation(&self, pointers: Vec<(String, String)>) -> StoreFuture<'_, ()>;
}
