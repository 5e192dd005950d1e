//! The HTTP API (axum): the chat webhook and form endpoint (no token), the
//! operator side (token per operator: live events, offers, conversations,
//! status) and the admin side (admin token: queues, look-ups, reload).
//! Handlers translate HTTP into channel calls and engine events; they never
//! decide routing.

mod admin;
mod auth;
pub mod bodies;
mod callbacks;
mod chat_webhook;
mod conversations;
mod error;
mod events;
mod forms;
pub mod live;
mod offers;
mod recordings;
mod status;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;

use crate::channels::ChannelContext;

/// What every handler can reach.
#[derive(Clone)]
pub struct ApiState {
    pub ctx: ChannelContext,
    pub config_path: PathBuf,
    /// Bumped after every successful reload, for adapters that follow it.
    pub reloaded: Arc<tokio::sync::watch::Sender<u64>>,
    /// For reply webhooks.
    pub http: reqwest::Client,
    /// Prometheus exposition for `/metrics`.
    pub metrics: crate::metrics::Exporter,
    /// The telephony task, when SIP is on.
    pub telephony: Option<crate::telephony::TelephonyHandle>,
}

pub fn router(state: ApiState) -> Router {
    let body_limit = state.ctx.config.load().limits.http_body_bytes;
    Router::new()
        .route("/api/v1/health", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/api/v1/chat/{source}/messages", post(chat_webhook::receive))
        .route("/api/v1/forms/{form}", post(forms::receive))
        .route("/api/v1/operators/me/events", get(events::stream))
        .route("/api/v1/operators/me/status", post(status::update))
        .route("/api/v1/offers/{id}/accept", post(offers::accept))
        .route("/api/v1/offers/{id}/decline", post(offers::decline))
        .route("/api/v1/conversations/{id}", get(conversations::show))
        .route("/api/v1/conversations/{id}/messages", post(conversations::reply))
        .route("/api/v1/conversations/{id}/close", post(conversations::close))
        .route("/api/v1/conversations/{id}/transfer", post(conversations::transfer))
        .route("/api/v1/queues", get(admin::queues))
        .route("/api/v1/requests", get(admin::requests))
        .route("/api/v1/customers", get(admin::find_customer))
        .route("/api/v1/customers/{id}", get(admin::customer))
        .route("/api/v1/leads/{id}", get(admin::lead))
        .route("/api/v1/recordings/{request}", get(recordings::call))
        .route("/api/v1/voicemail/{request}", get(recordings::voicemail))
        .route("/api/v1/calls", get(admin::calls))
        .route("/api/v1/operators/me/recording/pause", post(recordings::pause))
        .route("/api/v1/operators/me/recording/resume", post(recordings::resume))
        .route("/api/v1/callbacks", get(callbacks::list))
        .route("/api/v1/callbacks/{id}/done", post(callbacks::done))
        .route("/api/v1/reload", post(admin::reload))
        .layer(RequestBodyLimitLayer::new(body_limit))
        .with_state(state)
}

/// `GET /metrics`: the Prometheus text exposition (no token; bind the API to
/// an internal address).
async fn metrics(axum::extract::State(state): axum::extract::State<ApiState>) -> impl axum::response::IntoResponse {
    let text = state.metrics.render(&state.ctx.engine).await;
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

/// Serves the API on an already bound listener until the task is dropped.
pub async fn serve(listener: TcpListener, state: ApiState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}
