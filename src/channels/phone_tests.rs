//! Calls stored through the CRM: leads per route, the known caller's
//! responsible handed to the engine, unknown numbers refused.

use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::*;
use crate::crm::{CustomerKey, Store};
use crate::daemon::engine_task;
use crate::daemon::shutdown::{self, DrainSwitch};
use crate::engine::Engine;

async fn context(dir: &Path) -> (ChannelContext, DrainSwitch) {
    let text = format!(
        "[listen]\n[storage]\nsqlite = \"{}\"\n[crm]\nphone_region = \"DE\"\n\
         [[operators]]\nid = \"alice\"\n[[operators]]\nid = \"bob\"\n\
         [[queues]]\nname = \"support\"\nchannels = [\"phone\"]\noperators = [\"alice\", \"bob\"]\n\
         [[routes.phone]]\nnumber = \"+49 30 111111\"\nqueue = \"support\"\ncreate_lead = true\n\
         [[routes.phone]]\nnumber = \"+4930222222\"\nqueue = \"support\"\n",
        dir.join("acdd.db").display()
    );
    let config = crate::config::parse(Path::new("test.toml"), &text).unwrap();
    let store: Arc<dyn Store> = Arc::new(crate::crm::sql::SqlStore::open(&config.storage).await.unwrap());
    let setup = config.engine_setup();
    let engine = engine_task::spawn(Engine::new(setup.clone()), &setup, None);
    let live = crate::api::live::spawn(engine.clone(), store.clone());
    let (switch, drain) = shutdown::drain();
    let ctx = ChannelContext {
        config: Arc::new(ArcSwap::from_pointee(config)),
        store,
        engine,
        live,
        drain,
    };
    (ctx, switch)
}

#[tokio::test]
async fn calls_find_their_customer_and_route() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, switch) = context(dir.path()).await;

    let (id, first) = arrive(&ctx, "030 12345678", "+4930111111").await.unwrap();
    assert_eq!(id.0 as i64, first.request);
    let view = ctx.engine.query(move |e| e.request_view(id)).await.flatten().unwrap();
    assert_eq!((view.channel, view.queue.as_str()), (Channel::Phone, "support"));
    let card = ctx
        .store
        .customer(CustomerKey::Identity("phone".into(), "+493012345678".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(card.leads.len(), 1, "create_lead: a lead for the unknown caller");

    // Bob took it: the next call of the same number names him as responsible.
    ctx.store.assigned(first.request, "bob".into(), 1).await.unwrap();
    let (_, second) = arrive(&ctx, "+49 30 1234 5678", "+49 30 222222").await.unwrap();
    assert_eq!(second.customer, first.customer);
    assert_eq!(second.responsible.as_deref(), Some("bob"));

    // No lead on a route without create_lead; anonymous callers are stored too.
    let (_, anonymous) = arrive(&ctx, "anonymous", "+4930222222").await.unwrap();
    let card = ctx
        .store
        .customer(CustomerKey::Id(anonymous.customer))
        .await
        .unwrap()
        .unwrap();
    assert!(card.leads.is_empty() && card.identities.is_empty());

    assert!(matches!(
        arrive(&ctx, "+493012345678", "+4930999999").await,
        Err(ChannelError::UnknownRoute { .. })
    ));

    // Stopping: no new calls.
    switch.drain(&ctx.engine, std::time::Duration::ZERO).await;
    assert!(matches!(
        arrive(&ctx, "+493012345678", "+4930111111").await,
        Err(ChannelError::Draining)
    ));
}
