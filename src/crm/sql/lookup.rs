//! Reading: open requests for recovery, conversations and messages for
//! operators, customers and leads for the admin look-up.

use super::SqlStore;
use super::db::{Row, query};
use crate::crm::model::{
    Activity, CallbackTask, Conversation, CustomerCard, Identity, Lead, Message, OpenRequest, RequestSummary,
};
use crate::crm::store::{CustomerKey, StoreError};
use crate::engine::Channel;

fn channel(name: &str) -> Result<Channel, StoreError> {
    Channel::ALL
        .into_iter()
        .find(|c| c.as_str() == name)
        .ok_or_else(|| StoreError::Invalid(format!("unknown channel {name:?} in storage")))
}

fn lead_from(row: &Row) -> Result<Lead, StoreError> {
    let fields: String = row.try_get(5)?;
    Ok(Lead {
        id: row.try_get(0)?,
        customer: row.try_get(1)?,
        kind: row.try_get(2)?,
        channel: row.try_get(3)?,
        origin: row.try_get(4)?,
        fields: serde_json::from_str(&fields).unwrap_or(serde_json::Value::String(fields)),
        request: row.try_get(6)?,
        created_at: row.try_get(7)?,
    })
}

const CALLBACK_COLUMNS: &str = "id, customer_id, request_id, operator, reason, recording, created_at";

fn callback_from(row: &Row) -> Result<CallbackTask, StoreError> {
    Ok(CallbackTask {
        id: row.try_get(0)?,
        customer: row.try_get(1)?,
        request: row.try_get(2)?,
        operator: row.try_get(3)?,
        reason: row.try_get(4)?,
        recording: row.try_get(5)?,
        created_at: row.try_get(6)?,
    })
}

const LEAD_COLUMNS: &str = "id, customer_id, kind, channel, origin, fields, request_id, created_at";

impl SqlStore {
    pub(super) async fn list_open_requests(&self) -> Result<Vec<OpenRequest>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = query(
                    "SELECT r.id, r.conversation_id, r.customer_id, r.channel, r.queue, r.waiting_since, \
                    COALESCE(r.operator, r.direct_to, c.responsible), c.name \
             FROM requests r JOIN customers c ON c.id = r.customer_id \
             WHERE r.state = 'open' ORDER BY r.waiting_since, r.id",
                )
                .fetch_all(db)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(OpenRequest {
                            request: row.try_get(0)?,
                            conversation: row.try_get(1)?,
                            customer: row.try_get(2)?,
                            channel: channel(&row.try_get::<String>(3)?)?,
                            queue: row.try_get(4)?,
                            waiting_since: row.try_get(5)?,
                            responsible: row.try_get(6)?,
                            customer_name: row.try_get(7)?,
                        })
                    })
                    .collect()
            })
        })
        .await
    }

    pub(super) async fn find_conversation(&self, id: i64) -> Result<Option<Conversation>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                let row = query(
            "SELECT c.id, c.channel, c.origin, c.external_id, c.customer_id, c.subject, c.operator, c.closed_at, \
                    (SELECT r.id FROM requests r WHERE r.conversation_id = c.id AND r.state = 'open' \
                     ORDER BY r.id DESC LIMIT 1) \
             FROM conversations c WHERE c.id = $1",
        )
        .bind(id)
        .fetch_optional(db)
        .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(Conversation {
                    id: row.try_get(0)?,
                    channel: row.try_get(1)?,
                    origin: row.try_get(2)?,
                    external_id: row.try_get(3)?,
                    customer: row.try_get(4)?,
                    subject: row.try_get(5)?,
                    operator: row.try_get(6)?,
                    closed_at: row.try_get(7)?,
                    open_request: row.try_get(8)?,
                }))
            })
        })
        .await
    }

    pub(super) async fn list_messages(&self, conversation: i64) -> Result<Vec<Message>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                let rows = query(
                    "SELECT id, direction, author, body, at FROM messages WHERE conversation_id = $1 ORDER BY id",
                )
                .bind(conversation)
                .fetch_all(db)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(Message {
                            id: row.try_get(0)?,
                            direction: row.try_get(1)?,
                            author: row.try_get(2)?,
                            body: row.try_get(3)?,
                            at: row.try_get(4)?,
                        })
                    })
                    .collect()
            })
        })
        .await
    }

    pub(super) async fn summarise_request(&self, request: i64) -> Result<Option<RequestSummary>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                let row = query(
                    "SELECT r.id, r.channel, r.queue, r.conversation_id, r.customer_id, cu.name, co.subject, \
                    (SELECT m.body FROM messages m WHERE m.conversation_id = r.conversation_id \
                     AND m.direction = 'in' ORDER BY m.id DESC LIMIT 1) \
             FROM requests r JOIN customers cu ON cu.id = r.customer_id \
             LEFT JOIN conversations co ON co.id = r.conversation_id WHERE r.id = $1",
                )
                .bind(request)
                .fetch_optional(db)
                .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(Some(RequestSummary {
                    request: row.try_get(0)?,
                    channel: row.try_get(1)?,
                    queue: row.try_get(2)?,
                    conversation: row.try_get(3)?,
                    customer: row.try_get(4)?,
                    customer_name: row.try_get(5)?,
                    subject: row.try_get(6)?,
                    preview: row.try_get(7)?,
                }))
            })
        })
        .await
    }

    pub(super) async fn find_customer(&self, key: CustomerKey) -> Result<Option<CustomerCard>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                // One snapshot: a card never shows half of what one transaction wrote.
                let id: Option<i64> = match key {
                    CustomerKey::Id(id) => Some(id),
                    CustomerKey::Identity(kind, value) => {
                        query("SELECT customer_id FROM identities WHERE kind = $1 AND value = $2")
                            .bind(kind)
                            .bind(value)
                            .fetch_optional(db)
                            .await?
                            .map(|row| row.try_get(0))
                            .transpose()?
                    }
                };
                let Some(id) = id else { return Ok(None) };
                let Some(row) = query("SELECT id, name, responsible FROM customers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(db)
                    .await?
                else {
                    return Ok(None);
                };
                let identities =
                    query("SELECT kind, value FROM identities WHERE customer_id = $1 ORDER BY kind, value")
                        .bind(id)
                        .fetch_all(db)
                        .await?
                        .iter()
                        .map(|r| {
                            Ok(Identity {
                                kind: r.try_get(0)?,
                                value: r.try_get(1)?,
                            })
                        })
                        .collect::<Result<Vec<_>, StoreError>>()?;
                let leads = query(format!(
                    "SELECT {LEAD_COLUMNS} FROM leads WHERE customer_id = $1 ORDER BY id"
                ))
                .bind(id)
                .fetch_all(db)
                .await?
                .iter()
                .map(lead_from)
                .collect::<Result<Vec<_>, _>>()?;
                let activities = query(
                    "SELECT kind, request_id, operator, detail, at FROM activities WHERE customer_id = $1 ORDER BY id",
                )
                .bind(id)
                .fetch_all(db)
                .await?
                .iter()
                .map(|r| {
                    Ok(Activity {
                        kind: r.try_get(0)?,
                        request: r.try_get(1)?,
                        operator: r.try_get(2)?,
                        detail: r.try_get(3)?,
                        at: r.try_get(4)?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
                let callbacks = query(format!(
            "SELECT {CALLBACK_COLUMNS} FROM callback_tasks WHERE customer_id = $1 AND done_at IS NULL ORDER BY id"
        ))
        .bind(id)
        .fetch_all(db)
        .await?
        .iter()
        .map(callback_from)
        .collect::<Result<Vec<_>, StoreError>>()?;
                Ok(Some(CustomerCard {
                    id,
                    name: row.try_get(1)?,
                    responsible: row.try_get(2)?,
                    identities,
                    leads,
                    activities,
                    callbacks,
                }))
            })
        })
        .await
    }

    pub(super) async fn find_lead(&self, id: i64) -> Result<Option<Lead>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                let row = query(format!("SELECT {LEAD_COLUMNS} FROM leads WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(db)
                    .await?;
                row.as_ref().map(lead_from).transpose()
            })
        })
        .await
    }

    pub(super) async fn list_open_callbacks(&self) -> Result<Vec<CallbackTask>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                query(format!(
                    "SELECT {CALLBACK_COLUMNS} FROM callback_tasks WHERE done_at IS NULL ORDER BY created_at, id"
                ))
                .fetch_all(db)
                .await?
                .iter()
                .map(callback_from)
                .collect()
            })
        })
        .await
    }

    pub(super) async fn list_thread_ids(&self, conversation: i64) -> Result<Vec<String>, StoreError> {
        self.read(move |db| {
            Box::pin(async move {
                let rows =
                    query("SELECT message_id FROM mail_ids WHERE conversation_id = $1 ORDER BY seen_at, message_id")
                        .bind(conversation)
                        .fetch_all(db)
                        .await?;
                rows.iter().map(|row| row.try_get(0)).collect()
            })
        })
        .await
    }
}
