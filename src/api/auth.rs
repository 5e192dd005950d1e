//! Bearer tokens: one per operator, one for the admin. Compared in constant
//! time; a missing or wrong token is a bare 401.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::ApiState;
use super::error::ApiError;
use crate::engine::OperatorId;

/// The operator a request is made by.
pub struct OperatorAuth {
    pub name: String,
    pub id: OperatorId,
}

/// A request made with the admin token.
pub struct AdminAuth;

pub(super) fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub(super) fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

impl FromRequestParts<ApiState> for OperatorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let config = state.ctx.config.load_full();
        // Every token is compared, so timing does not tell which one matched.
        let mut found = None;
        for operator in &config.operators {
            if let Some(expected) = &operator.api_token
                && same(token, expected.get_ref())
            {
                found = Some(operator.id.get_ref().clone());
            }
        }
        let name = found.ok_or(ApiError::Unauthorized)?;
        let lookup = name.clone();
        let id = state
            .ctx
            .engine
            .query(move |e| e.operator_id(&lookup))
            .await
            .flatten()
            .ok_or(ApiError::Unauthorized)?;
        Ok(OperatorAuth { name, id })
    }
}

impl FromRequestParts<ApiState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized)?;
        let config = state.ctx.config.load();
        match &config.admin.token {
            Some(expected) if same(token, expected) => Ok(AdminAuth),
            _ => Err(ApiError::Unauthorized),
        }
    }
}
