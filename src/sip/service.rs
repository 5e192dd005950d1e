//! Starting and stopping the SIP layer: binds the configured listeners,
//! restores registrations, learns operator ids from the engine, and spawns
//! the transport tasks and the core task.

use std::collections::HashMap;
use std::net::SocketAddr;

use anyhow::Context;
use tokio::sync::{mpsc, oneshot};

use super::auth::nonce::{NonceSigner, random_secret};
use super::auth::verifier::{DigestVerifier, Principal};
use super::calls::{CallControl, IncomingCalls, NoTelephony};
use super::core::{Reconfiguration, SipCore, unix_now};
use super::reachability::Reachability;
use super::registrar::persist;
use super::settings::SipSettings;
use super::transport::{Outbound, tcp, tls, udp};
use super::trunk::Trunks;
use crate::config::Config;
use crate::daemon::EngineHandle;
use crate::engine::OperatorId;

/// Makes the call seam for a (re)loaded configuration.
pub type CallsFactory = std::sync::Arc<dyn Fn(&SipSettings) -> Box<dyn IncomingCalls> + Send + Sync>;

/// The seam that refuses every call (`NoTelephony`).
pub fn no_telephony() -> CallsFactory {
    std::sync::Arc::new(|settings: &SipSettings| Box::new(NoTelephony::new(settings.routed_numbers.clone())))
}

/// A running SIP layer.
pub struct SipService {
    calls: CallsFactory,
    stop: oneshot::Sender<oneshot::Sender<()>>,
    changes: mpsc::UnboundedSender<Reconfiguration>,
    control: CallControl,
    engine: Option<EngineHandle>,
    /// The listener addresses it was started with (changing them needs a restart).
    listening: [Option<SocketAddr>; 3],
}

impl SipService {
    /// Starts the SIP layer the configuration describes; calls go to the
    /// seam `calls` makes (again on every reload).
    pub async fn start_for(
        config: &Config,
        engine: EngineHandle,
        calls: CallsFactory,
    ) -> anyhow::Result<Option<SipService>> {
        let settings = SipSettings::from_config(config);
        let seam = calls(&settings);
        let service = SipService::start(settings, Some(engine), seam).await?;
        Ok(service.map(|mut s| {
            s.calls = calls;
            s
        }))
    }

    /// Applies a reloaded configuration (after the engine got it).
    pub async fn reload(&self, config: &Config) {
        let settings = SipSettings::from_config(config);
        let calls = (self.calls)(&settings);
        self.reconfigure(settings, calls).await;
    }

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
        add_accounts(&mut verifier, &settings);
        let trunks = trunks_of(&settings);
        let bindings = persist::load(&settings.registrations_file, unix_now(), |peer| outbound.udp_for(peer))
            .with_context(|| format!("reading registrations from {}", settings.registrations_file.display()))?;
        let ids = operator_ids(engine.as_ref(), &settings).await;
        let reachability = Reachability::new(engine.clone(), ids);
        let listening = [settings.udp, settings.tcp, settings.tls];
        let core = SipCore::new(settings, outbound, verifier, bindings, reachability, trunks, calls);
        let (stop, stopped) = oneshot::channel();
        let (changes, reconfigurations) = mpsc::unbounded_channel();
        let (control, commands) = mpsc::unbounded_channel();
        tokio::spawn(core.run(inbound, reconfigurations, commands, stopped));
        Ok(Some(SipService {
            calls: no_telephony(),
            stop,
            changes,
            control,
            engine,
            listening,
        }))
    }

    /// Applies a reloaded configuration: accounts, trunks, registrar policy,
    /// timers and limits. Call it after the engine got the same configuration,
    /// so that new operators have ids. Listener changes need a restart.
    pub async fn reconfigure(&self, settings: SipSettings, calls: Box<dyn IncomingCalls>) {
        if [settings.udp, settings.tcp, settings.tls] != self.listening {
            tracing::warn!("SIP listener addresses changed; they take effect after a restart");
        }
        let ids = operator_ids(self.engine.as_ref(), &settings).await;
        let _ = self.changes.send(Reconfiguration { settings, ids, calls });
    }

    /// Telephony's handle for answering `Pending` calls.
    pub fn call_control(&self) -> CallControl {
        self.control.clone()
    }

    /// Stops the core after it saved the registrations.
    pub async fn stop(self) {
        let (done, finished) = oneshot::channel();
        if self.stop.send(done).is_ok() {
            let _ = finished.await;
        }
    }
}

/// Every operator and trunk with credentials becomes a digest account.
pub(super) fn add_accounts(verifier: &mut DigestVerifier, settings: &SipSettings) {
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
}

pub(super) fn trunks_of(settings: &SipSettings) -> Trunks {
    Trunks::new(
        settings
            .trunks
            .iter()
            .map(|t| (t.name.clone(), t.sources.clone()))
            .collect(),
    )
}

/// The engine's id of every configured operator.
async fn operator_ids(engine: Option<&EngineHandle>, settings: &SipSettings) -> HashMap<String, OperatorId> {
    let Some(engine) = engine else {
        return HashMap::new();
    };
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
