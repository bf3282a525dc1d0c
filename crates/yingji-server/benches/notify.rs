//! Activation of a response that calls 200 people through the webhook channel to a receiver on
//! loopback: time from the activation request to the last message received, over repeated
//! runs. Run with `bench/notify.sh` (or `cargo bench -p yingji-server --bench notify`).
//! `NOTIFY_BENCH_RUNS` (default 30) and `NOTIFY_BENCH_PEOPLE` (default 200) change the size.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;
use yingji_domain::clock::SystemClock;
use yingji_server::{AppState, app};
use yingji_store::{Row, Store, WriteSet};

type Counts = Arc<Mutex<HashMap<String, (usize, Instant)>>>;

async fn receive(State(c): State<Counts>, body: axum::Json<Value>) -> StatusCode {
    let iid = body.0["incident_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let mut m = c.lock().unwrap();
    let e = m.entry(iid).or_insert((0, Instant::now()));
    e.0 += 1;
    e.1 = Instant::now();
    StatusCode::OK
}

async fn call(router: &axum::Router, method: &str, path: &str, token: &str, body: Value) -> Value {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert!(status.is_success(), "{method} {path}: {status} {v}");
    v
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let runs: usize = std::env::var("NOTIFY_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let people: usize = std::env::var("NOTIFY_BENCH_PEOPLE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let counts: Counts = Arc::default();
        let recv = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(counts.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = format!("http://{}/hook", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, recv).await.unwrap() });

        let dir = std::env::temp_dir().join(format!("yingji-bench-{}", Uuid::now_v7().simple()));
        let store = Store::open_sqlite(&dir).await.unwrap();
        // The receiver is on loopback, which people's own webhooks may reach only when the
        // operator allows it.
        let cfg = yingji_notify::NotifyConfig {
            secret: format!("{}{}", Uuid::now_v7().simple(), Uuid::now_v7().simple()),
            allow_destinations: yingji_notify::outbound::AllowList::try_from(vec![
                "127.0.0.0/8".to_string(),
            ])
            .unwrap(),
            ..Default::default()
        };
        let state = AppState::with_notify(store.clone(), Arc::new(SystemClock), cfg).unwrap();
        yingji_server::demo::load_demo(&state).await.unwrap();
        let router = app(state.clone());
        let (_, county) = {
            let v = call(&router, "GET", "/api/v1/jurisdictions", "demo-province-admin", Value::Null).await;
            let j = v["items"].as_array().unwrap().iter().find(|j| j["name"] == "临溪市").unwrap().clone();
            (j.clone(), j["id"].as_str().unwrap().to_string())
        };
        let county_id: Uuid = county.parse().unwrap();
        // 200 people who all hold the order group's lead post, each reachable by webhook.
        let mut ws = WriteSet::default();
        for i in 0..people {
            let id = Uuid::now_v7();
            ws.rows.push(Row::Person(yingji_store::PersonRow {
                id,
                jurisdiction_id: county_id,
                name: format!("值守人员{i:03}"),
                phone: None,
                email: None,
                token_hash: None,
                created_at: "2026-01-01T00:00:00.000000Z".into(),
            }));
            ws.rows.push(Row::PostHolder(yingji_store::PostHolderRow {
                jurisdiction_id: county_id,
                post_id: "police-commissar".into(),
                person_id: id,
                deputy: false,
            }));
            ws.rows.push(Row::Directory(yingji_store::DirectoryWrite::Channels {
                person_id: id,
                channels: vec![("webhook".into(), hook.clone())],
            }));
        }
        store.commit(ws).await.unwrap();
        let worker = state.notify.clone();
        worker.spawn();
        // Let the demo's own messages drain.
        tokio::time::sleep(Duration::from_millis(1500)).await;

        let mut times = Vec::new();
        for run in 0..runs {
            let body = json!({
                "jurisdiction_id": county, "plan_id": "linxiang-city-mass-petition", "kind": "event",
                "title": format!("压测：第{run}次启动"), "headcount": 120, "location": "市政府东门",
                "fields": { "unit": "某公司", "address": "市政府东门", "time": "上午", "demands": "测试" }
            });
            let v = call(&router, "POST", "/api/v1/incidents", "demo-duty-officer", body).await;
            let iid = v["id"].as_str().unwrap().to_string();
            call(&router, "POST", &format!("/api/v1/incidents/{iid}/verify"), "demo-duty-officer", json!({})).await;
            call(&router, "POST", &format!("/api/v1/incidents/{iid}/assess"), "demo-commander", json!({})).await;
            let t0 = Instant::now();
            call(&router, "POST", &format!("/api/v1/incidents/{iid}/activate"), "demo-commander", json!({})).await;
            let deadline = t0 + Duration::from_secs(30);
            let last = loop {
                if let Some((n, at)) = counts.lock().unwrap().get(&iid).copied()
                    && n >= people
                {
                    break at;
                }
                assert!(Instant::now() < deadline, "run {run}: not all {people} messages arrived within 30 s");
                tokio::time::sleep(Duration::from_millis(2)).await;
            };
            times.push(last.duration_since(t0).as_secs_f64() * 1000.0);
        }
        let mut sorted = times.clone();
        sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "notify: activation → last of {people} webhook messages received, {runs} runs: p50 {:.1} ms, p99 {:.1} ms, min {:.1} ms, max {:.1} ms (goal: all within 1000 ms)",
            pct(&sorted, 0.5),
            pct(&sorted, 0.99),
            sorted[0],
            sorted[sorted.len() - 1]
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
