//! Wiring: opens storage, starts the engine task and the adapters (operators'
//! statuses restored and kept, `operator_status.rs`; old recordings deleted,
//! `retention.rs`), handles signals (SIGHUP reloads, SIGTERM/SIGINT stop) and
//! shutdown.

pub mod engine_task;
mod limits;
pub mod names;
mod operator_status;
mod retention;
pub mod shutdown;
mod systemd;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::channels::{self, ChannelContext};
use crate::config::{self, Config, ConfigError};
use crate::crm::{self, Store};
use crate::engine::{Engine, Event};
use crate::eventlog::EventLog;
use crate::metrics;

pub use engine_task::EngineHandle;

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(config_path: PathBuf, config: Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(serve(config_path, config))
}

async fn serve(config_path: PathBuf, config: Config) -> anyhow::Result<()> {
    let store: Arc<dyn Store> = Arc::new(
        crm::sql::SqlStore::open(&config.storage)
            .await
            .context("opening storage")?,
    );
    let setup = config.engine_setup();
    let mut engine = Engine::new(setup.clone());
    for (queue, operator) in store.rotation().await.context("reading the rotation pointers")? {
        engine.restore_rotation(&queue, &operator);
    }
    let log = EventLog::open(&config.storage.event_log)
        .with_context(|| format!("opening the event log {}", config.storage.event_log.display()))?;
    let exporter = metrics::Exporter::install().context("installing the metrics recorder")?;
    let observers: Vec<Box<dyn engine_task::StepObserver>> = vec![Box::new(metrics::MetricsObserver::default())];
    let handle = engine_task::spawn_observed(engine, &setup, Some(log), observers);
    // Both follow the engine from its first action on.
    crm::recorder::spawn(store.clone(), handle.clone());
    let live = crate::api::live::spawn(handle.clone(), store.clone());
    let (http, lmtp) = (config.listen.http, config.listen.lmtp);
    let (drain_switch, drain) = shutdown::drain();
    let mut hangup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    // Calls reaching SIP before the telephony task starts wait in its channel.
    let (seam, call_inputs) = crate::telephony::seam(Default::default());
    let telephony = seam.handle();
    let seam = std::sync::Mutex::new(seam);
    let calls: crate::sip::service::CallsFactory = std::sync::Arc::new(move |settings| {
        let seam = seam.lock().unwrap_or_else(|e| e.into_inner());
        Box::new(seam.with_routes(settings.routed_numbers.clone()))
    });
    let sip = crate::sip::SipService::start_for(&config, handle.clone(), calls)
        .await
        .context("starting SIP")?;
    let (queues, operators) = (config.queues.len(), config.operators.len());
    let config = Arc::new(ArcSwap::from_pointee(config));
    let reloaded = Arc::new(watch::Sender::new(0u64));
    let mut reloads = reloaded.subscribe();
    let ctx = ChannelContext {
        config: config.clone(),
        store: store.clone(),
        engine: handle.clone(),
        live,
        drain,
    };
    if let Some(sip) = &sip {
        let media = crate::media::MediaService::new(crate::media::MediaConfig::from_listen(&config.load().listen))
            .context("starting the media service")?;
        let open_files = limits::raise_open_files();
        let rtp_pairs = limits::rtp_pairs_within(open_files);
        media.pool().keep_open_at_most(rtp_pairs);
        if rtp_pairs < media.pool().capacity() {
            tracing::warn!(
                open_files,
                rtp_pairs,
                range_pairs = media.pool().capacity(),
                "the open-files limit is below what the RTP port range needs: fewer ports stay open between calls"
            );
        }
        exporter.on_scrape({
            let media = media.clone();
            move || media.publish_metrics()
        });
        crate::telephony::spawn(ctx.clone(), sip.call_control(), media, call_inputs);
        let recordings = config.load().storage.recordings_dir();
        let recovered = crate::telephony::recording::recover(&recordings, &*store).await;
        if recovered > 0 {
            tracing::info!(recovered, "unfinished call recordings recovered");
        }
    }
    retention::spawn(config.clone());
    // Operators are as they were before the restart, before any request is offered.
    let statuses = operator_status::restore(&*store, &handle)
        .await
        .context("restoring operator statuses")?;
    tracing::info!(operators = statuses, "operator statuses restored");
    let (stop_keeper, keeper_stop) = watch::channel(false);
    let keeper = operator_status::spawn_keeper(store.clone(), handle.clone(), keeper_stop);
    // Requests still open from before the restart go first, in their order.
    let recovered = channels::arrival::recover(&*store, &handle)
        .await
        .context("re-offering open requests")?;
    tracing::info!(recovered, "open requests re-offered");
    if let Some(address) = lmtp {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("listening for LMTP on {address}"))?;
        tokio::spawn(channels::lmtp::serve(listener, ctx.clone()));
        tracing::info!(%address, "LMTP listening");
    }
    if let Some(address) = http {
        let listener = TcpListener::bind(address)
            .await
            .with_context(|| format!("listening for HTTP on {address}"))?;
        let state = crate::api::ApiState {
            ctx: ctx.clone(),
            config_path: config_path.clone(),
            reloaded: reloaded.clone(),
            http: reqwest::Client::new(),
            metrics: exporter,
            telephony: sip.is_some().then_some(telephony),
        };
        tokio::spawn(async move {
            if let Err(error) = crate::api::serve(listener, state).await {
                tracing::error!(%error, "HTTP server stopped");
            }
        });
        tracing::info!(%address, "HTTP listening");
    }
    // Signals are handled and listeners bound from here on: only now is the daemon started.
    tracing::info!(queues, operators, "acdd started");
    systemd::spawn_watchdog(handle.clone());
    systemd::ready();
    loop {
        tokio::select! {
            _ = hangup.recv() => match reload(&config_path, &config, &handle, &reloaded) {
                Ok(()) => tracing::info!("configuration reloaded"),
                Err(error) => tracing::error!(%error, "reload refused; keeping the running configuration"),
            },
            // After every reload, by SIGHUP or the admin API: SIP follows.
            Ok(()) = reloads.changed() => {
                if let Some(sip) = &sip {
                    sip.reload(&config.load_full()).await;
                }
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    systemd::stopping();
    let grace = std::time::Duration::from_secs(config.load().shutdown.grace_seconds);
    tracing::info!(
        grace_seconds = grace.as_secs(),
        "acdd stopping: no new requests, calls in progress may finish"
    );
    let cut_short = drain_switch.drain(&handle, grace).await;
    if cut_short > 0 {
        tracing::warn!(calls = cut_short, "grace time over: calls cut short");
    }
    if let Some(sip) = sip {
        sip.stop().await;
    }
    let _ = stop_keeper.send(true);
    let _ = keeper.await;
    tracing::info!("acdd stopped");
    Ok(())
}

/// Re-reads the configuration; an invalid one is refused and the old one kept.
/// The engine gets the new setup at once; other adapters hear of it through `reloaded`.
pub fn reload(
    path: &Path,
    config: &ArcSwap<Config>,
    engine: &EngineHandle,
    reloaded: &watch::Sender<u64>,
) -> Result<(), ConfigError> {
    systemd::reloading();
    let result = config::load(path);
    systemd::reloaded();
    let new = result?;
    engine.send(Event::Reconfigure(Box::new(new.engine_setup())));
    config.store(Arc::new(new));
    reloaded.send_modify(|generation| *generation += 1);
    Ok(())
}
