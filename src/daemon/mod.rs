//! Wiring: starts the engine task and the adapters, handles signals
//! (SIGHUP reloads, SIGTERM/SIGINT stop) and shutdown.

pub mod engine_task;
pub mod shutdown;
mod systemd;

use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::{self, Config};
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
    let setup = config.engine_setup();
    let engine = Engine::new(setup.clone());
    let log = EventLog::open(&config.storage.event_log)
        .with_context(|| format!("opening the event log {}", config.storage.event_log.display()))?;
    let exporter = metrics::Exporter::install().context("installing the metrics recorder")?;
    let observers: Vec<Box<dyn engine_task::StepObserver>> = vec![Box::new(metrics::MetricsObserver::default())];
    let handle = engine_task::spawn_observed(engine, &setup, Some(log), observers);
    let _ = &exporter; // served on /metrics by the HTTP API
    let (drain_switch, _drain) = shutdown::drain();
    let mut hangup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let sip_settings = crate::sip::SipSettings::from_config(&config);
    let calls = Box::new(crate::sip::NoTelephony::new(sip_settings.routed_numbers.clone()));
    let sip = crate::sip::SipService::start(sip_settings, Some(handle.clone()), calls)
        .await
        .context("starting SIP")?;
    // Signals are handled and listeners bound from here on: only now is the daemon started.
    tracing::info!(
        queues = config.queues.len(),
        operators = config.operators.len(),
        "acdd started"
    );
    systemd::spawn_watchdog(handle.clone());
    systemd::ready();
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                if let (Some(new), Some(sip)) = (reload(&config_path, &handle), &sip) {
                    let settings = crate::sip::SipSettings::from_config(&new);
                    let calls = Box::new(crate::sip::NoTelephony::new(settings.routed_numbers.clone()));
                    sip.reconfigure(settings, calls).await;
                }
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    systemd::stopping();
    let grace = std::time::Duration::from_secs(config.shutdown.grace_seconds);
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
    tracing::info!("acdd stopped");
    Ok(())
}

/// Re-reads the configuration; an invalid one is refused and the old one kept.
/// Returns the new configuration for the adapters.
fn reload(path: &Path, engine: &EngineHandle) -> Option<Config> {
    systemd::reloading();
    let result = config::load(path);
    systemd::reloaded();
    match result {
        Ok(new) => {
            engine.send(Event::Reconfigure(Box::new(new.engine_setup())));
            tracing::info!("configuration reloaded");
            Some(new)
        }
        Err(error) => {
            tracing::error!(%error, "reload refused; keeping the running configuration");
            None
        }
    }
}
