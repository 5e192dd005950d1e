//! Wiring: starts the engine task and the adapters, handles signals
//! (SIGHUP reloads, SIGTERM/SIGINT stop) and shutdown.

pub mod engine_task;

use std::path::{Path, PathBuf};

use anyhow::Context;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::{self, Config};
use crate::engine::{Engine, Event};

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
    let engine = Engine::new(config.engine_setup());
    let handle = engine_task::spawn(engine);
    let sip = crate::sip::SipService::start_for(&config, handle.clone())
        .await
        .context("starting SIP")?;
    tracing::info!(
        queues = config.queues.len(),
        operators = config.operators.len(),
        "acdd started"
    );
    let mut hangup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut terminate = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                if let (Some(new), Some(sip)) = (reload(&config_path, &handle), &sip) {
                    sip.reload(&new).await;
                }
            }
            _ = terminate.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    tracing::info!("acdd stopping");
    if let Some(sip) = sip {
        sip.stop().await;
    }
    Ok(())
}

/// Re-reads the configuration; an invalid one is refused and the old one kept.
/// Returns the new configuration for the adapters.
fn reload(path: &Path, engine: &EngineHandle) -> Option<Config> {
    match config::load(path) {
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
