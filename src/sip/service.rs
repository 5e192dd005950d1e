//! Starting and stopping the SIP layer: binds the configured listeners,
//! restores registrations, learns operator ids from the engine, and spawns
//! the transport tasks and the core task.

use std::collections::HashMap;

use anyhow::Context;
use tokio::sync::{mpsc, oneshot};

use super::auth::nonce::{NonceSigner, random_secret};
use super::auth::verifier::{DigestVerifier, Principal};
use super::calls::IncomingCalls;
use super::core::{SipCore, unix_now};
use super::reachability::Reachability;
use super::registrar::persist;
use super::settings::SipSettings;
use super::transport::{Outbound, tcp, tls, udp};
use super::trunk::Trunks;
use crate::daemon::EngineHandle;

/// A running SIP layer.
pub struct SipService {
    stop: oneshot::Sender<oneshot::Sender<()>>,
}

impl SipService {
    /// Starts listening; `None` when the configuration names no SIP listener.
    pub async fn start(
        settings: SipSettings,
        engine: Option<EngineHandle>,
        calls: Box<dyn IncomingCalls>,
    ) -> anyhow::Result<Option<SipService>> {
        if settings.udp.is_none() && settings.tcp.is_none() && settings.tls.is_none() {
            return Ok(None);
        }
        let (inbound_sender, inbound) = mpsc::channel(16384);
        let mut outbound = Outbound::default();
        if let Some(address) = settings.udp {
            let socket = udp::bind(address)?;
            let local = socket.local_addr()?;
            outbound.udp.push((socket.clone(), local));
            tracing::info!(%local, "SIP listening on UDP");
        }
        if let Some(address) = settings.tcp {
            let listener = tcp::bind(address).await?;
            let local = listener.local_addr()?;
            outbound.tcp_local = Some(local);
            tcp::spawn_listener(listener, None, inbound_sender.clone(), settings.max_message);
            tracing::info!(%local, "SIP listening on TCP");
        }
        if let Some(address) = settings.tls {
            let config = tls::server_config(&settings)?;
            let listener = tcp::bind(address).await?;
            let local = listener.local_addr()?;
            outbound.tls_local = Some(local);
            tcp::spawn_listener(listener, Some(config), inbound_sender.clone(), settings.max_message);
            tracing::info!(%local, "SIP listening on TLS");
        }
        drop(inbound_sender);

        let secret = random_secret().context("reading a random nonce secret")?;
        let mut verifier = DigestVerifier::new(
            settings.realm.clone(),
            settings.algorithms.clone(),
            NonceSigner::new(secret, settings.nonce_lifetime),
        );
        for operator in &settings.operators {
            verifier.add_account(
                &operator.username,
                Principal::Operator(operator.id.clone()),
                operator.secret.clone(),
            );
        }
        for trunk in &settings.trunks {
            if let Some((username, secret)) = &trunk.credentials {
                verifier.add_account(username, Principal::Trunk(trunk.name.clone()), secret.clone());
            }
        }
        let trunks = Trunks::new(
            settings
                .trunks
                .iter()
                .map(|t| (t.name.clone(), t.sources.clone()))
                .collect(),
        );
        let bindings = persist::load(&settings.registrations_file, unix_now(), |peer| outbound.udp_for(peer))
            .with_context(|| format!("reading registrations from {}", settings.registrations_file.display()))?;
        let ids = match &engine {
            Some(engine) => {
                let names: Vec<String> = settings.operators.iter().map(|o| o.id.clone()).collect();
                engine
                    .query(move |e| {
                        names
                            .iter()
                            .filter_map(|n| Some((n.clone(), e.operator_id(n)?)))
                            .collect::<HashMap<_, _>>()
                    })
                    .await
                    .unwrap_or_default()
            }
            None => HashMap::new(),
        };
        let reachability = Reachability::new(engine, ids);
        let core = SipCore::new(settings, outbound, verifier, bindings, reachability, trunks, calls);
        let (stop, stopped) = oneshot::channel();
        tokio::spawn(core.run(inbound, stopped));
        Ok(Some(SipService { stop }))
    }

    /// Stops the core after it saved the registrations.
    pub async fn stop(self) {
        let (done, finished) = oneshot::channel();
        if self.stop.send(done).is_ok() {
            let _ = finished.await;
        }
    }
}
