//! Per-address limits on the doors anyone can knock on: sign-in (the API's session and the
//! console's form) and intake (reporting an incident, registering a case, inbound SMS). Each
//! peer address has a bucket per door that refills at the configured rate per minute; an empty
//! bucket is 429 `rate_limited` with `Retry-After`. A limit of 0 turns a door's limit off
//! (intake's default). Requests without a known peer address (an
//! in-process call) are not limited. The limits are `sign_in_per_minute` and
//! `intake_per_minute` in the trust settings.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use yingji_app::{AppError, ErrorCode};

use crate::AppState;
use crate::error::ApiError;

/// Which door a request knocks on, if a limited one.
fn door(method: &Method, path: &str) -> Option<Door> {
    if method != Method::POST {
        return None;
    }
    match path {
        "/api/v1/session" | "/signin" => Some(Door::SignIn),
        "/api/v1/incidents"
        | "/api/v1/cases"
        | "/api/v1/sms/inbound"
        | "/report"
        | "/cases/new" => Some(Door::Intake),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Door {
    SignIn,
    Intake,
}

/// Buckets per (address, door): tokens left and when last refilled.
#[derive(Clone, Default)]
pub struct Buckets(Arc<Mutex<BucketMap>>);

/// (address, door) → (tokens left, when last refilled).
type BucketMap = HashMap<(IpAddr, Door), (f64, Instant)>;

/// Addresses remembered at most; full buckets are forgotten first.
const ADDRESSES: usize = 100_000;

impl Buckets {
    /// Takes one token; `Err(seconds)` until the next one when the bucket is empty.
    fn take(&self, ip: IpAddr, door: Door, per_minute: u32) -> Result<(), u64> {
        let cap = f64::from(per_minute.max(1));
        let rate = cap / 60.0;
        let now = Instant::now();
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if m.len() >= ADDRESSES {
            m.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < cap);
        }
        let (tokens, at) = m.entry((ip, door)).or_insert((cap, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * rate).min(cap);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

/// The middleware.
pub async fn limit(
    State((state, buckets)): State<(AppState, Buckets)>,
    req: Request,
    next: Next,
) -> Response {
    let Some(door) = door(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        return next.run(req).await;
    };
    let per_minute = match door {
        Door::SignIn => state.trust.sign_in_per_minute,
        Door::Intake => state.trust.intake_per_minute,
    };
    if per_minute == 0 {
        return next.run(req).await;
    }
    match buckets.take(peer.ip(), door, per_minute) {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::from(
            AppError::new(
                ErrorCode::RateLimited,
                format!("too many requests from this address; retry in {wait} s"),
            )
            .details(json!({ "retry_after_s": wait })),
        )
        .into_response(),
    }
}
