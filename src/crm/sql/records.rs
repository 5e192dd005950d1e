//! What happened to requests after they arrived, as the engine and operators
//! report it: assignment, transfer, end (with callback tasks for missed
//! ones), responsible changes, operator replies, and rotation pointers.

use super::SqlStore;
use super::customers::{activity, resolve};
use super::db::{Db, query};
use crate::crm::model::{Identity, Message, Millis, Record, RequestEnd};
use crate::crm::store::StoreError;

/// `engine_state` keys of the rotation pointers: `rotation:QUEUE` → operator.
pub(super) const ROTATION: &str = "rotation:";
/// `engine_state` keys of operators' statuses: `status:OPERATOR` → JSON.
pub(super) const STATUS: &str = "status:";

impl SqlStore {
    /// The recorder's records in order, in one write transaction.
    pub(super) async fn record_batch(&self, records: Vec<Record>) -> Result<(), StoreError> {
        self.write(move |db| {
            Box::pin(async move {
                for record in records {
                    match record {
                        Record::Assigned { request, operator, at } => {
                            record_assigned_in(db, request, operator, at).await?
                        }
                        Record::Transferred { request, from, at } => {
                            record_transferred_in(db, request, from, at).await?
                        }
                        Record::Ended { request, end, at } => record_ended_in(db, request, end, at).await?,
                        Record::Responsible { request, operator, at } => {
                            record_responsible_in(db, request, operator, at).await?
                        }
                        Record::Rotation(pointers) => store_state_in(db, ROTATION, pointers).await?,
                    }
                }
                Ok(())
            })
        })
        .await
    }

    pub(super) async fn record_assigned(&self, request: i64, operator: String, at: Millis) -> Result<(), StoreError> {
        self.write(move |db| Box::pin(record_assigned_in(db, request, operator, at)))
            .await
    }

    pub(super) async fn record_transferred(&self, request: i64, from: String, at: Millis) -> Result<(), StoreError> {
        self.write(move |db| Box::pin(record_transferred_in(db, request, from, at)))
            .await
    }

    pub(super) async fn record_ended(&self, request: i64, end: RequestEnd, at: Millis) -> Result<(), StoreError> {
        self.write(move |db| Box::pin(record_ended_in(db, request, end, at)))
            .await
    }

    pub(super) async fn record_responsible(
        &self,
        request: i64,
        operator: String,
        at: Millis,
    ) -> Result<(), StoreError> {
        self.write(move |db| Box::pin(record_responsible_in(db, request, operator, at)))
            .await
    }

    pub(super) async fn record_reply(
        &self,
        conversation: i64,
        operator: String,
        body: String,
        at: Millis,
    ) -> Result<Message, StoreError> {
        self.write(move |db| {
            Box::pin(async move {
                let id = query(
                    "INSERT INTO messages (conversation_id, direction, author, body, at) \
                     VALUES ($1, 'out', $2, $3, $4)",
                )
                .bind(conversation)
                .bind(&operator)
                .bind(&body)
                .bind(at)
                .insert_id(db)
                .await?;
                Ok(Message {
                    id,
                    direction: "out".into(),
                    author: operator,
                    body,
                    at,
                })
            })
        })
        .await
    }

    pub(super) async fn load_rotation(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.load_state(ROTATION).await
    }

    pub(super) async fn store_rotation(&self, pointers: Vec<(String, String)>) -> Result<(), StoreError> {
        self.store_state(ROTATION, pointers).await
    }

    /// The `engine_state` entries whose key starts with `prefix`, as (the
    /// rest of the key, value), in key order.
    pub(super) async fn load_state(&self, prefix: &'static str) -> Result<Vec<(String, String)>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = query("SELECT key, value FROM engine_state WHERE key LIKE $1 ORDER BY key")
                    .bind(format!("{prefix}%"))
                    .fetch_all(db)
                    .await?;
                let mut entries = Vec::new();
                for row in rows {
                    let key: String = row.try_get(0)?;
                    let value: String = row.try_get(1)?;
                    entries.push((key[prefix.len()..].to_string(), value));
                }
                Ok(entries)
            })
        })
        .await
    }

    pub(super) async fn store_state(
        &self,
        prefix: &'static str,
        entries: Vec<(String, String)>,
    ) -> Result<(), StoreError> {
        self.write(move |db| Box::pin(store_state_in(db, prefix, entries)))
            .await
    }

    pub(super) async fn record_call_out_in(
        &self,
        phone: String,
        operator: String,
        at: Millis,
    ) -> Result<i64, StoreError> {
        self.write(move |db| {
            Box::pin(async move {
                let identity = Identity::phone(phone);
                let (customer, _) = resolve(db, std::slice::from_ref(&identity), None, None, at).await?;
                let detail = format!("called by {operator}");
                activity(db, customer, "phone", None, Some(&operator), &detail, at).await?;
                Ok(customer)
            })
        })
        .await
    }

    pub(super) async fn record_callback_request(
        &self,
        request: i64,
        reason: String,
        at: Millis,
    ) -> Result<(), StoreError> {
        self.write(move |db| {
            Box::pin(async move {
                query(
                    "INSERT INTO callback_tasks (customer_id, request_id, operator, reason, created_at) \
                     SELECT customer_id, id, NULL, $1, $2 FROM requests WHERE id = $3",
                )
                .bind(reason)
                .bind(at)
                .bind(request)
                .execute(db)
                .await?;
                Ok(())
            })
        })
        .await
    }

    pub(super) async fn record_callback_done(&self, id: i64, operator: String, at: Millis) -> Result<bool, StoreError> {
        self.write(move |db| {
            Box::pin(async move {
                let row = query("SELECT customer_id, request_id FROM callback_tasks WHERE id = $1 AND done_at IS NULL")
                    .bind(id)
                    .fetch_optional(db)
                    .await?;
                let Some(row) = row else { return Ok(false) };
                let (customer, request): (i64, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
                query("UPDATE callback_tasks SET done_at = $1 WHERE id = $2")
                    .bind(at)
                    .bind(id)
                    .execute(db)
                    .await?;
                activity(db, customer, "callback", request, Some(&operator), "called back", at).await?;
                Ok(true)
            })
        })
        .await
    }

    pub(super) async fn record_recording(&self, request: i64, link: String, at: Millis) -> Result<(), StoreError> {
        self.write(move |db| {
            Box::pin(async move {
                let Some(customer) = customer_of(db, request).await? else {
                    return Ok(());
                };
                query("UPDATE callback_tasks SET recording = $1 WHERE request_id = $2")
                    .bind(&link)
                    .bind(request)
                    .execute(db)
                    .await?;
                activity(db, customer, "recording", Some(request), None, &link, at).await
            })
        })
        .await
    }

    pub(super) async fn record_mail_id(&self, conversation: i64, message_id: String) -> Result<(), StoreError> {
        self.write(move |db| {
            Box::pin(async move {
                query(
                    "INSERT INTO mail_ids (message_id, conversation_id, seen_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(message_id)
                .bind(conversation)
                .bind(crate::crm::now_millis())
                .execute(db)
                .await?;
                Ok(())
            })
        })
        .await
    }
}

async fn customer_of(db: &mut dyn Db, request: i64) -> Result<Option<i64>, StoreError> {
    let row = query("SELECT customer_id FROM requests WHERE id = $1")
        .bind(request)
        .fetch_optional(db)
        .await?;
    row.map(|r| r.try_get(0)).transpose()
}

async fn record_assigned_in(db: &mut dyn Db, request: i64, operator: String, at: Millis) -> Result<(), StoreError> {
    let Some(row) = query("UPDATE requests SET operator = $1 WHERE id = $2 RETURNING customer_id, conversation_id")
        .bind(&operator)
        .bind(request)
        .fetch_optional(db)
        .await?
    else {
        return Ok(());
    };
    let (customer, conversation): (i64, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
    if let Some(conversation) = conversation {
        query("UPDATE conversations SET operator = $1 WHERE id = $2")
            .bind(&operator)
            .bind(conversation)
            .execute(db)
            .await?;
    }
    // A customer nobody is responsible for yet gets the first operator
    // assigned (for a lead from mail or a form: the rotation's choice).
    query("UPDATE customers SET responsible = $1 WHERE id = $2 AND responsible IS NULL")
        .bind(&operator)
        .bind(customer)
        .execute(db)
        .await?;
    activity(db, customer, "assigned", Some(request), Some(&operator), "assigned", at).await?;
    Ok(())
}

async fn record_transferred_in(db: &mut dyn Db, request: i64, from: String, at: Millis) -> Result<(), StoreError> {
    let Some(customer) = customer_of(db, request).await? else {
        return Ok(());
    };
    activity(
        db,
        customer,
        "transfer",
        Some(request),
        Some(&from),
        "transferred away",
        at,
    )
    .await?;
    Ok(())
}

async fn record_ended_in(db: &mut dyn Db, request: i64, end: RequestEnd, at: Millis) -> Result<(), StoreError> {
    let state = match &end {
        RequestEnd::Closed => "closed",
        RequestEnd::Abandoned => "abandoned",
        RequestEnd::Missed { .. } => "missed",
    };
    // No row: an unknown request, or one already ended (the API records a
    // close before the engine confirms it).
    let Some(row) = query(
        "UPDATE requests SET state = $1, ended_at = $2 WHERE id = $3 AND state = 'open' \
         RETURNING customer_id, operator, conversation_id",
    )
    .bind(state)
    .bind(at)
    .bind(request)
    .fetch_optional(db)
    .await?
    else {
        return Ok(());
    };
    let (customer, operator, conversation): (i64, Option<String>, Option<i64>) =
        (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    if let Some(conversation) = conversation {
        query("UPDATE conversations SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL")
            .bind(at)
            .bind(conversation)
            .execute(db)
            .await?;
    }
    if let RequestEnd::Missed { reason } = &end {
        query(
            "INSERT INTO callback_tasks (customer_id, request_id, operator, reason, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(customer)
        .bind(request)
        .bind(operator.as_deref())
        .bind(reason)
        .bind(at)
        .execute(db)
        .await?;
    }
    let detail = match &end {
        RequestEnd::Missed { reason } => format!("missed: {reason}"),
        _ => state.to_string(),
    };
    activity(db, customer, state, Some(request), operator.as_deref(), &detail, at).await?;
    Ok(())
}

async fn record_responsible_in(db: &mut dyn Db, request: i64, operator: String, at: Millis) -> Result<(), StoreError> {
    let Some(customer) = customer_of(db, request).await? else {
        return Ok(());
    };
    query("UPDATE customers SET responsible = $1 WHERE id = $2")
        .bind(&operator)
        .bind(customer)
        .execute(db)
        .await?;
    activity(
        db,
        customer,
        "responsible",
        Some(request),
        Some(&operator),
        "now responsible",
        at,
    )
    .await?;
    Ok(())
}

/// Upserts `engine_state` entries under `prefix` (rotation pointers,
/// operator statuses).
async fn store_state_in(db: &mut dyn Db, prefix: &str, entries: Vec<(String, String)>) -> Result<(), StoreError> {
    for (key, value) in entries {
        query(
            "INSERT INTO engine_state (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(format!("{prefix}{key}"))
        .bind(value)
        .execute(db)
        .await?;
    }
    Ok(())
}
