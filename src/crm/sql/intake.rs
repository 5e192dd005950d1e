//! Arrivals: one transaction per incoming request or message. The message is
//! appended to its open conversation, or a new request is opened with its
//! customer, conversation, lead and activity. Nothing is half-written.

use super::customers::{activity, resolve};
use super::db::{Db, query};
use super::{Backend, SqlStore};
use crate::crm::model::{LeadPlan, NewRequest, OpenRequest, Stored, Thread};
use crate::crm::store::StoreError;

/// The conversation an arrival continues, if any.
struct Continued {
    id: i64,
    customer: i64,
    operator: Option<String>,
    closed: bool,
}

impl SqlStore {
    pub(super) async fn receive_request(&self, new: NewRequest) -> Result<Stored, StoreError> {
        let _one_at_a_time = match self.backend {
            Backend::Postgres(_) => Some(self.arrivals.lock().await),
            Backend::Sqlite(_) => None,
        };
        self.write(move |db| Box::pin(receive_in(db, new))).await
    }
}

async fn receive_in(db: &mut dyn Db, new: NewRequest) -> Result<Stored, StoreError> {
    let continued = find_thread(db, &new).await?;
    let (customer, is_new) = resolve(
        db,
        &new.identities,
        continued.as_ref().map(|c| c.customer),
        new.name.as_deref(),
        new.at,
    )
    .await?;
    if let Some(thread) = continued.as_ref().filter(|c| !c.closed) {
        let open = query("SELECT id FROM requests WHERE conversation_id = $1 AND state = 'open'")
            .bind(thread.id)
            .fetch_optional(db)
            .await?;
        if let Some(row) = open {
            let request: i64 = row.try_get(0)?;
            add_message(db, thread.id, &new).await?;
            return Ok(Stored::Appended {
                conversation: thread.id,
                request,
                operator: thread.operator.clone(),
            });
        }
    }
    // A thread whose request ended goes back to the operator who had it.
    let direct_to = continued.as_ref().and_then(|c| c.operator.clone());
    let conversation = match &continued {
        Some(thread) if new.channel == crate::engine::Channel::Mail => {
            query("UPDATE conversations SET closed_at = NULL, customer_id = $1 WHERE id = $2")
                .bind(customer)
                .bind(thread.id)
                .execute(db)
                .await?;
            thread.id
        }
        _ => {
            query(
                "INSERT INTO conversations (channel, origin, external_id, customer_id, subject, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new.channel.as_str())
            .bind(&new.origin)
            .bind(&new.external_id)
            .bind(customer)
            .bind(new.subject.as_deref())
            .bind(new.at)
            .insert_id(db)
            .await?
        }
    };
    add_message(db, conversation, &new).await?;
    let request: i64 = query(
        "INSERT INTO requests (channel, queue, customer_id, conversation_id, waiting_since, state, direct_to) \
             VALUES ($1, $2, $3, $4, $5, 'open', $6)",
    )
    .bind(new.channel.as_str())
    .bind(&new.queue)
    .bind(customer)
    .bind(conversation)
    .bind(new.at)
    .bind(direct_to.as_deref())
    .insert_id(db)
    .await?;
    let lead = match &new.lead {
        LeadPlan::IfUnknown if is_new => Some(("lead", serde_json::json!({}))),
        LeadPlan::IfUnknown | LeadPlan::Never => None,
        LeadPlan::Always { kind, fields } => Some((kind.as_str(), fields.clone())),
    };
    if let Some((kind, fields)) = lead {
        query(
            "INSERT INTO leads (customer_id, kind, channel, origin, request_id, fields, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(customer)
        .bind(kind)
        .bind(new.channel.as_str())
        .bind(&new.origin)
        .bind(request)
        .bind(fields.to_string())
        .bind(new.at)
        .execute(db)
        .await?;
    }
    let detail = format!("{} via {}", new.channel, new.origin);
    activity(db, customer, new.channel.as_str(), Some(request), None, &detail, new.at).await?;
    // Nobody is responsible for a customer created just now.
    let (responsible, customer_name) = if is_new {
        (direct_to, new.name.clone())
    } else {
        let row = query("SELECT responsible, name FROM customers WHERE id = $1")
            .bind(customer)
            .fetch_one(db)
            .await?;
        (direct_to.or(row.try_get(0)?), row.try_get(1)?)
    };
    Ok(Stored::Opened(OpenRequest {
        request,
        conversation: Some(conversation),
        customer,
        channel: new.channel,
        queue: new.queue,
        waiting_since: new.at,
        responsible,
        customer_name,
    }))
}

async fn find_thread(db: &mut dyn Db, new: &NewRequest) -> Result<Option<Continued>, StoreError> {
    let row = match &new.thread {
        Thread::New => None,
        Thread::Chat { source, user } => {
            query(
                "SELECT id, customer_id, operator, closed_at FROM conversations \
                 WHERE channel = 'chat' AND origin = $1 AND external_id = $2 AND closed_at IS NULL \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(source)
            .bind(user)
            .fetch_optional(db)
            .await?
        }
        Thread::Mail { refers_to } => {
            let mut found = None;
            for message_id in refers_to {
                found = query(
                    "SELECT c.id, c.customer_id, c.operator, c.closed_at FROM mail_ids m \
                     JOIN conversations c ON c.id = m.conversation_id WHERE m.message_id = $1",
                )
                .bind(message_id)
                .fetch_optional(db)
                .await?;
                if found.is_some() {
                    break;
                }
            }
            found
        }
    };
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Continued {
        id: row.try_get(0)?,
        customer: row.try_get(1)?,
        operator: row.try_get(2)?,
        closed: row.try_get::<Option<i64>>(3)?.is_some(),
    }))
}

async fn add_message(db: &mut dyn Db, conversation: i64, new: &NewRequest) -> Result<(), StoreError> {
    // A call is a conversation without text: the request and its activity
    // are its record.
    if new.channel == crate::engine::Channel::Phone {
        return Ok(());
    }
    query("INSERT INTO messages (conversation_id, direction, author, body, at) VALUES ($1, 'in', $2, $3, $4)")
        .bind(conversation)
        .bind(&new.author)
        .bind(&new.body)
        .bind(new.at)
        .execute(db)
        .await?;
    if let Some(message_id) = &new.message_id {
        query("INSERT INTO mail_ids (message_id, conversation_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(message_id)
            .bind(conversation)
            .bind(new.at)
            .execute(db)
            .await?;
    }
    Ok(())
}
