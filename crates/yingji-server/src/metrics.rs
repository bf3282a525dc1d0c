//! Operations: Prometheus metrics at `GET /metrics` and the access log.
//!
//! Every request is counted by route (the route's pattern, never its ids or query), method and
//! status, with its latency in a histogram, and written to the access log (target `access`:
//! the path without its query, or only the pattern where the path carries a link's token)
//! with a request id — the caller's `X-Request-Id` when it sends a sane one, else a new UUID —
//! which the answer carries back. A scrape adds what the database holds at that moment
//! (outbox waiting by kind and the age of its oldest row, deliveries by state, records waiting
//! for the search index), the ticker's lag, the writer's queue, the pool's use and the live
//! subscribers. Figures are per process; Prometheus sums them.
//!
//! The figures say how much work there is, never whose: no person, place or text appears. The
//! endpoint answers loopback callers, or callers presenting `YINGJI_METRICS_TOKEN` as a bearer
//! token when one is set.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default, Clone)]
struct Stat {
    count: u64,
    sum: f64,
    /// Requests at or under each bound (cumulative, as Prometheus wants them).
    buckets: [u64; BUCKETS.len()],
}

/// (route, method, status) → counts.
type Requests = BTreeMap<(String, String, u16), Stat>;

static REQUESTS: LazyLock<Mutex<Requests>> = LazyLock::new(Mutex::default);

/// Counts the request, logs it, and gives the answer its request id.
pub async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| m.as_str().to_string());
    let method = req.method().as_str().to_string();
    // A path that carries a credential (a signed acknowledgement link) is logged as its
    // pattern: the log never holds a working link.
    let path = if route.contains("{token") {
        route.clone()
    } else {
        req.uri().path().to_string()
    };
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_string);
    let mut resp = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    {
        let mut m = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
        let s = m
            .entry((route.clone(), method.clone(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (b, bound) in s.buckets.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *b += 1;
            }
        }
    }
    tracing::info!(
        target: "access",
        request_id = %id,
        method = %method,
        path = %path,
        route = %route,
        status,
        ms = (secs * 1000.0 * 10.0).round() / 10.0,
        "request"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// Whether this caller may read the metrics.
fn allowed(req: &Request) -> bool {
    match std::env::var("YINGJI_METRICS_TOKEN") {
        Ok(t) if !t.trim().is_empty() => req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|got| crate::pages::same(got.trim(), t.trim())),
        _ => req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|c| c.0.ip().is_loopback()),
    }
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(state): State<AppState>, req: Request) -> Response {
    if !allowed(&req) {
        return (
            StatusCode::FORBIDDEN,
            "metrics: loopback only, or set YINGJI_METRICS_TOKEN and send it as a bearer token\n",
        )
            .into_response();
    }
    let mut out = String::with_capacity(8192);
    out.push_str("# HELP yingji_http_requests_total HTTP requests by route, method and status.\n# TYPE yingji_http_requests_total counter\n");
    let snapshot = REQUESTS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for ((route, method, status), s) in &snapshot {
        let _ = writeln!(
            out,
            "yingji_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {}",
            esc(route),
            s.count
        );
    }
    out.push_str("# HELP yingji_http_request_seconds HTTP request latency by route and method.\n# TYPE yingji_http_request_seconds histogram\n");
    let mut by_route: BTreeMap<(&str, &str), Stat> = BTreeMap::new();
    for ((route, method, _), s) in &snapshot {
        let t = by_route.entry((route, method)).or_default();
        t.count += s.count;
        t.sum += s.sum;
        for (a, b) in t.buckets.iter_mut().zip(s.buckets) {
            *a += b;
        }
    }
    for ((route, method), s) in &by_route {
        let labels = format!("route=\"{}\",method=\"{method}\"", esc(route));
        for (bound, n) in BUCKETS.iter().zip(s.buckets) {
            let _ = writeln!(
                out,
                "yingji_http_request_seconds_bucket{{{labels},le=\"{bound}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "yingji_http_request_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            s.count
        );
        let _ = writeln!(out, "yingji_http_request_seconds_sum{{{labels}}} {}", s.sum);
        let _ = writeln!(
            out,
            "yingji_http_request_seconds_count{{{labels}}} {}",
            s.count
        );
    }
    let now = state.clock.now();
    match state.store.gauges().await {
        Ok(g) => {
            out.push_str("# HELP yingji_outbox_pending Outbox rows waiting to be expanded, by kind.\n# TYPE yingji_outbox_pending gauge\n");
            for (kind, n, _) in &g.outbox_pending {
                let _ = writeln!(out, "yingji_outbox_pending{{kind=\"{}\"}} {n}", esc(kind));
            }
            out.push_str("# HELP yingji_outbox_oldest_seconds Age of the oldest outbox row waiting, by kind.\n# TYPE yingji_outbox_oldest_seconds gauge\n");
            for (kind, _, oldest) in &g.outbox_pending {
                if let Ok(t) = oldest.parse::<jiff::Timestamp>() {
                    let age = (now - t).get_seconds().max(0);
                    let _ = writeln!(
                        out,
                        "yingji_outbox_oldest_seconds{{kind=\"{}\"}} {age}",
                        esc(kind)
                    );
                }
            }
            out.push_str("# HELP yingji_deliveries Deliveries not yet sent, by state.\n# TYPE yingji_deliveries gauge\n");
            for (st, n) in &g.deliveries {
                let _ = writeln!(out, "yingji_deliveries{{state=\"{st}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "# HELP yingji_search_pending Records waiting for the search indexer.\n# TYPE yingji_search_pending gauge\nyingji_search_pending {}",
                g.search_pending
            );
            let _ = writeln!(
                out,
                "# HELP yingji_writer_queue Writes waiting for the writer.\n# TYPE yingji_writer_queue gauge\nyingji_writer_queue {}",
                g.writer_queue
            );
            let _ = writeln!(
                out,
                "# HELP yingji_db_pool_connections Read connections open, and idle.\n# TYPE yingji_db_pool_connections gauge\nyingji_db_pool_connections{{state=\"open\"}} {}\nyingji_db_pool_connections{{state=\"idle\"}} {}",
                g.pool_size, g.pool_idle
            );
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: reading the database failed");
            out.push_str("# the database did not answer: its gauges are missing\n");
        }
    }
    if let Ok(lag) = state.store.oldest_due_ms(now.as_millisecond()).await {
        let secs = lag.map_or(0, |t| (now.as_millisecond() - t).max(0) / 1000);
        let _ = writeln!(
            out,
            "# HELP yingji_ticker_lag_seconds How long the oldest due record has waited for the ticker.\n# TYPE yingji_ticker_lag_seconds gauge\nyingji_ticker_lag_seconds {secs}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP yingji_processes Processes sending on this database (each takes its share of every channel's rate limit).\n# TYPE yingji_processes gauge\nyingji_processes {}",
        state.notify.processes()
    );
    let _ = writeln!(
        out,
        "# HELP yingji_ticker_leader 1 when this process runs the ticker (one process of a database does).\n# TYPE yingji_ticker_leader gauge\nyingji_ticker_leader {}",
        u8::from(state.is_ticker_leader())
    );
    let _ = writeln!(
        out,
        "# HELP yingji_live_subscribers Live pages and inbox streams open on this process.\n# TYPE yingji_live_subscribers gauge\nyingji_live_subscribers {}",
        state.live_subscribers()
    );
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        out,
    )
        .into_response()
}
