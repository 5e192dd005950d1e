//! The form channel: a web form submission becomes a lead (or deal) and a
//! request, after its fields are mapped to ours and checked. A submission
//! with missing or malformed fields is refused whole, naming the fields as
//! the form named them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::schema::Creates;
use crate::crm::identity;
use crate::crm::{Identity, LeadKind, LeadPlan, NewRequest, StoreError, Stored, Thread, now_millis};
use crate::engine::Channel;

use super::{ChannelContext, ChannelError, FieldProblem, arrival};

#[derive(Debug, Serialize)]
pub struct FormReceipt {
    pub request: i64,
    pub customer: i64,
}

/// Stores one submission (field name → value, as submitted) and tells the engine.
pub async fn receive(
    ctx: &ChannelContext,
    form: &str,
    submitted: BTreeMap<String, String>,
) -> Result<FormReceipt, ChannelError> {
    if ctx.drain.is_draining() {
        return Err(ChannelError::Draining);
    }
    let config = ctx.config.load_full();
    let route = config
        .routes
        .form
        .iter()
        .find(|r| r.form.get_ref() == form)
        .ok_or_else(|| ChannelError::UnknownRoute {
            channel: "form",
            name: form.to_string(),
        })?;
    let region = identity::region(&config);
    let value_of = |ours: &str| -> Option<(String, String)> {
        let theirs = route.fields.get(ours).map(String::as_str).unwrap_or(ours);
        submitted
            .get(theirs)
            .map(|v| (theirs.to_string(), v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty())
    };

    let mut problems = Vec::new();
    for ours in &route.required {
        if value_of(ours).is_none() {
            let theirs = route.fields.get(ours).cloned().unwrap_or_else(|| ours.clone());
            problems.push(FieldProblem::new(&theirs, "is required"));
        }
    }
    let mut identities = Vec::new();
    if let Some((field, phone)) = value_of("phone") {
        match identity::phone(&phone, region) {
            Some(number) => identities.push(Identity::phone(number)),
            None => problems.push(FieldProblem::new(&field, "is not a valid phone number")),
        }
    }
    if let Some((field, email)) = value_of("email") {
        match identity::email(&email) {
            Some(address) => identities.push(Identity::email(address)),
            None => problems.push(FieldProblem::new(&field, "is not an e-mail address")),
        }
    }
    if !problems.is_empty() {
        problems.sort_by(|a, b| a.field.cmp(&b.field));
        problems.dedup_by(|a, b| a.field == b.field);
        return Err(ChannelError::Invalid(problems));
    }

    // Every submitted value is kept: mapped ones under our names, the rest as sent.
    let mut fields = serde_json::Map::new();
    let mapped: Vec<&String> = route.fields.values().collect();
    for ours in route.fields.keys() {
        if let Some((_, value)) = value_of(ours) {
            fields.insert(ours.clone(), value.into());
        }
    }
    for (theirs, value) in &submitted {
        if !mapped.contains(&theirs) && !value.trim().is_empty() {
            fields.insert(theirs.clone(), value.clone().into());
        }
    }
    let name = value_of("name").map(|(_, v)| v);
    let comment = value_of("comment").map(|(_, v)| v).unwrap_or_default();
    let kind = match route.creates {
        Creates::Lead => LeadKind::Lead,
        Creates::Deal => LeadKind::Deal,
    };
    let new = NewRequest {
        channel: Channel::Form,
        queue: route.queue.get_ref().clone(),
        origin: form.to_string(),
        name: name.clone(),
        identities,
        thread: Thread::New,
        external_id: form.to_string(),
        subject: Some(format!("form {form}")),
        author: name.unwrap_or_else(|| "form".to_string()),
        body: comment,
        message_id: None,
        lead: LeadPlan::Always {
            kind,
            fields: serde_json::Value::Object(fields),
        },
        at: now_millis(),
    };
    match ctx.store.receive(new).await? {
        Stored::Opened(open) => {
            arrival::announce(&ctx.engine, &open).await?;
            Ok(FormReceipt {
                request: open.request,
                customer: open.customer,
            })
        }
        Stored::Appended { .. } => Err(ChannelError::Storage(StoreError::Invalid(
            "a form submission joined an existing conversation".into(),
        ))),
    }
}
