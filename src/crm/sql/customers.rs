//! Customers inside a transaction: find them by identities, create them,
//! merge two that turn out to be one person, and log activities.

use super::db::{Db, query};
use crate::crm::store::StoreError;

use crate::crm::model::{Identity, Millis};

/// Finds the customer these identities (and `also`) belong to, merging
/// several into the first found, or creates one; then links every identity.
/// Returns the customer and whether it is new.
pub(super) async fn resolve(
    db: &mut dyn Db,
    identities: &[Identity],
    also: Option<i64>,
    name: Option<&str>,
    at: Millis,
) -> Result<(i64, bool), StoreError> {
    let mut found: Vec<i64> = Vec::new();
    for identity in identities {
        let owner = query("SELECT customer_id FROM identities WHERE kind = $1 AND value = $2")
            .bind(&identity.kind)
            .bind(&identity.value)
            .fetch_optional(db)
            .await?;
        if let Some(row) = owner {
            let id: i64 = row.try_get(0)?;
            if !found.contains(&id) {
                found.push(id);
            }
        }
    }
    if let Some(id) = also.filter(|id| !found.contains(id)) {
        found.push(id);
    }
    let (customer, new) = match found.first() {
        Some(first) => (*first, false),
        None => {
            let id = query("INSERT INTO customers (name, created_at) VALUES ($1, $2)")
                .bind(name)
                .bind(at)
                .insert_id(db)
                .await?;
            (id, true)
        }
    };
    for loser in found.iter().skip(1) {
        merge(db, *loser, customer, at).await?;
    }
    for identity in identities {
        query("INSERT INTO identities (kind, value, customer_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(&identity.kind)
            .bind(&identity.value)
            .bind(customer)
            .execute(db)
            .await?;
    }
    if let Some(name) = name {
        query("UPDATE customers SET name = $1 WHERE id = $2 AND name IS NULL")
            .bind(name)
            .bind(customer)
            .execute(db)
            .await?;
    }
    Ok((customer, new))
}

/// Moves everything of `loser` to `winner` and deletes `loser`. The winner
/// keeps its responsible and name; it takes the loser's where it has none.
async fn merge(db: &mut dyn Db, loser: i64, winner: i64, at: Millis) -> Result<(), StoreError> {
    query(
        "UPDATE customers SET \
           responsible = COALESCE(responsible, (SELECT c.responsible FROM customers c WHERE c.id = $1)), \
           name = COALESCE(name, (SELECT c.name FROM customers c WHERE c.id = $2)) \
         WHERE id = $3",
    )
    .bind(loser)
    .bind(loser)
    .bind(winner)
    .execute(db)
    .await?;
    for table in [
        "identities",
        "leads",
        "conversations",
        "requests",
        "activities",
        "callback_tasks",
    ] {
        query(format!("UPDATE {table} SET customer_id = $1 WHERE customer_id = $2"))
            .bind(winner)
            .bind(loser)
            .execute(db)
            .await?;
    }
    query("DELETE FROM customers WHERE id = $1")
        .bind(loser)
        .execute(db)
        .await?;
    activity(
        db,
        winner,
        "merged",
        None,
        None,
        &format!("customer {loser} merged in"),
        at,
    )
    .await
}

/// Appends to the customer's activity history.
pub(super) async fn activity(
    db: &mut dyn Db,
    customer: i64,
    kind: &str,
    request: Option<i64>,
    operator: Option<&str>,
    detail: &str,
    at: Millis,
) -> Result<(), StoreError> {
    query(
        "INSERT INTO activities (customer_id, kind, request_id, operator, detail, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(customer)
    .bind(kind)
    .bind(request)
    .bind(operator)
    .bind(detail)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}
