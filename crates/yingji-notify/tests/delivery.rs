//! Delivery against real receivers on loopback: an HTTP webhook receiver (axum) that can fail
//! and that deduplicates by message id like a careful provider, and a tiny SMTP server.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;
use yingji_domain::clock::ManualClock;
use yingji_notify::{NotifyConfig, Worker};
use yingji_store::{OutboxRow, Row, Store, WriteSet, fmt_ts};

#[derive(Default)]
struct Receiver {
    /// Every request: (message id header, body).
    requests: Vec<(String, Value)>,
    /// Messages accepted once each (the provider deduplicates by message id).
    delivered: Vec<Value>,
    seen: HashSet<String>,
    fail_next: usize,
}

type Shared = Arc<Mutex<Receiver>>;

async fn receive(
    State(s): State<Shared>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> StatusCode {
    let id = headers
        .get("idempotency-key")
        .or_else(|| headers.get("x-yingji-message-id"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut r = s.lock().unwrap();
    r.requests.push((id.clone(), body.0.clone()));
    if r.fail_next > 0 {
        r.fail_next -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    if r.seen.insert(id) {
        r.delivered.push(body.0);
    }
    StatusCode::OK
}

async fn webhook_receiver() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(shared.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), shared)
}

/// A minimal SMTP server: accepts every message and keeps its data.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else {
                return;
            };
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    if cmd.starts_with("EHLO") {
                        w.write_all(b"250-test\r\n250 8BITMIME\r\n").await.unwrap();
                    } else if cmd.starts_with("DATA") {
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            r.read_line(&mut line).await.unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        g.lock().unwrap().push(data);
                        w.write_all(b"250 queued\r\n").await.unwrap();
                    } else if cmd.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        w.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, got)
}

struct Fixture {
    store: Store,
    clock: Arc<ManualClock>,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn fixture() -> Fixture {
    let dir = std::env::temp_dir().join(format!("yingji-notify-{}", Uuid::now_v7()));
    let store = Store::open_sqlite(&dir).await.unwrap();
    let clock = Arc::new(ManualClock::new(
        "2026-10-05T02:00:00Z".parse::<Timestamp>().unwrap(),
    ));
    let mut ws = WriteSet::default();
    ws.rows
        .push(Row::Jurisdiction(yingji_store::JurisdictionRow {
            id: Uuid::from_u128(1),
            parent_id: None,
            name: "青石镇".into(),
            kind: "township".into(),
            code: None,
            path: "/q/".into(),
            created_at: "2026-01-01T00:00:00.000000Z".into(),
        }));
    store.commit(ws).await.unwrap();
    Fixture { store, clock, dir }
}

async fn person(f: &Fixture, name: &str, email: Option<&str>, channels: &[(&str, &str)]) -> Uuid {
    let id = Uuid::now_v7();
    let mut ws = WriteSet::default();
    ws.rows.push(Row::Person(yingji_store::PersonRow {
        id,
        jurisdiction_id: Uuid::from_u128(1),
        name: name.into(),
        phone: None,
        email: email.map(str::to_string),
        token_hash: None,
        created_at: "2026-01-01T00:00:00.000000Z".into(),
    }));
    ws.rows
        .push(Row::Directory(yingji_store::DirectoryWrite::Channels {
            person_id: id,
            channels: channels
                .iter()
                .map(|(c, a)| (c.to_string(), a.to_string()))
                .collect(),
        }));
    f.store.commit(ws).await.unwrap();
    id
}

async fn call(f: &Fixture, people: &[(Uuid, &str)], drill: bool) -> Uuid {
    let id = Uuid::now_v7();
    let mut ws = WriteSet::default();
    let text = yingji_notify::mark_drill("青石镇启动Ⅳ级响应，请立即到岗。", drill);
    ws.rows.push(Row::Outbox(OutboxRow {
        id,
        event_id: Uuid::now_v7(),
        kind: "call".into(),
        payload: json!({
            "people": people.iter().map(|(p, n)| json!({"person_id": p, "name": n})).collect::<Vec<_>>(),
            "subject": yingji_notify::mark_drill("应急响应通知", drill),
            "text": text,
            "incident_id": Uuid::now_v7(),
            "call_id": Uuid::now_v7(),
            "drill": drill,
            "jurisdiction_path": "/q/",
        })
        .to_string(),
        next_at: fmt_ts(f.clock.now_ts()),
        created_at: fmt_ts(f.clock.now_ts()),
    }));
    f.store.commit(ws).await.unwrap();
    id
}

trait Now {
    fn now_ts(&self) -> Timestamp;
}
impl Now for ManualClock {
    fn now_ts(&self) -> Timestamp {
        yingji_domain::clock::Clock::now(self)
    }
}

fn worker(f: &Fixture, cfg: NotifyConfig) -> Arc<Worker> {
    Arc::new(Worker::new(f.store.clone(), f.clock.clone(), cfg).unwrap())
}

/// The receivers listen on loopback, which the operator allows here.
fn cfg() -> NotifyConfig {
    NotifyConfig {
        secret: "test-secret".into(),
        base_url: "http://127.0.0.1:9".into(),
        allow_destinations: allow(&["127.0.0.0/8", "::1/128"]),
        ..NotifyConfig::default()
    }
}

fn allow(entries: &[&str]) -> yingji_notify::outbound::AllowList {
    yingji_notify::outbound::AllowList::try_from(
        entries.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    )
    .unwrap()
}

async fn state_of(store: &Store, channel: &str) -> Vec<(String, i64, Option<String>)> {
    let f = yingji_store::notify::DeliveryFilter {
        scope_path: "/".into(),
        channel: Some(channel.into()),
        limit: 100,
        ..Default::default()
    };
    store
        .list_deliveries(&f)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.state, d.attempts, d.last_error))
        .collect()
}

#[tokio::test]
async fn gateway_500_then_200_delivers_exactly_once() {
    let f = fixture().await;
    let (url, rx) = webhook_receiver().await;
    rx.lock().unwrap().fail_next = 1;
    let p = person(&f, "林晓", None, &[("webhook", &url)]).await;
    call(&f, &[(p, "林晓")], false).await;
    let w = worker(&f, cfg());

    let r = w.run_once().await.unwrap();
    assert_eq!((r.expanded, r.sent, r.failed), (1, 0, 1));
    let st = state_of(&f.store, "webhook").await;
    assert_eq!(st[0].0, "pending");
    assert!(st[0].2.as_deref().unwrap().contains("500"), "{st:?}");
    // Not due yet: the backoff holds it.
    assert_eq!(w.run_once().await.unwrap().sent, 0);
    f.clock
        .advance(SignedDuration::from_millis(cfg().backoff(1)));
    assert_eq!(w.run_once().await.unwrap().sent, 1);
    assert_eq!(w.run_once().await.unwrap().sent, 0);

    let r = std::mem::take(&mut *rx.lock().unwrap());
    assert_eq!(r.requests.len(), 2);
    assert_eq!(
        r.requests[0].0, r.requests[1].0,
        "the retry carries the same message id"
    );
    assert_eq!(r.delivered.len(), 1);
    assert_eq!(r.delivered[0]["text"], "青石镇启动Ⅳ级响应，请立即到岗。");
    assert!(
        r.delivered[0]["ack_url"]
            .as_str()
            .unwrap()
            .contains("/ack/")
    );
    assert_eq!(state_of(&f.store, "webhook").await[0].0, "sent");
    // The in-app copy was delivered by being written.
    assert_eq!(f.store.inbox(p, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn worker_killed_between_send_and_mark_sends_no_duplicate() {
    let f = fixture().await;
    let (url, rx) = webhook_receiver().await;
    let p = person(&f, "周岚", None, &[("webhook", &url)]).await;
    call(&f, &[(p, "周岚")], true).await;
    let mut c = cfg();
    c.lease_ms = 30_000;
    let a = worker(&f, c.clone());
    a.expand().await.unwrap();
    let (_lease, batch) = a.claim().await.unwrap();
    assert_eq!(batch.len(), 1);
    let results = a.send_all(batch).await;
    assert!(results[0].1.is_ok());
    drop(results);
    drop(a); // killed: the send happened, the mark did not

    let b = worker(&f, c);
    // While the dead worker's lease holds, nobody resends.
    assert_eq!(b.run_once().await.unwrap().sent, 0);
    f.clock.advance(SignedDuration::from_secs(31));
    assert_eq!(b.run_once().await.unwrap().sent, 1);

    let r = std::mem::take(&mut *rx.lock().unwrap());
    assert_eq!(r.requests.len(), 2, "at least once: the message went again");
    assert_eq!(r.requests[0].0, r.requests[1].0);
    assert_eq!(
        r.delivered.len(),
        1,
        "the receiver deduplicated by message id"
    );
    assert!(
        r.delivered[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("【演练】"),
        "a drill message starts with the drill mark"
    );
    let st = state_of(&f.store, "webhook").await;
    assert_eq!((st[0].0.as_str(), st[0].1), ("sent", 2));
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_dead_letters_the_message() {
    let f = fixture().await;
    let (url, rx) = webhook_receiver().await;
    rx.lock().unwrap().fail_next = 100;
    let p = person(&f, "韩冰", None, &[("webhook", &url)]).await;
    call(&f, &[(p, "韩冰")], false).await;
    let mut c = cfg();
    c.max_attempts = 3;
    let w = worker(&f, c.clone());
    for _ in 0..5 {
        w.run_once().await.unwrap();
        f.clock
            .advance(SignedDuration::from_millis(c.backoff_max_ms));
    }
    let st = state_of(&f.store, "webhook").await;
    assert_eq!(st[0].0, "dead");
    assert_eq!(st[0].1, 3);
    assert_eq!(rx.lock().unwrap().requests.len(), 3);
    assert!(st[0].2.as_deref().unwrap().contains("500"));
}

#[tokio::test]
async fn email_over_smtp_and_robot_formats() {
    let f = fixture().await;
    let (port, mails) = smtp_server().await;
    let (url, rx) = webhook_receiver().await;
    let p = person(
        &f,
        "沈一帆",
        Some("shen@example.org"),
        &[("wecom", &url), ("dingtalk", &url), ("feishu", &url)],
    )
    .await;
    call(&f, &[(p, "沈一帆")], true).await;
    let mut c = cfg();
    c.smtp = Some(yingji_notify::config::SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: "none".into(),
        username: None,
        password: None,
        from: "应急值班室 <duty@example.org>".into(),
    });
    let w = worker(&f, c);
    let r = w.run_once().await.unwrap();
    assert_eq!(r.sent, 4, "{r:?}");
    let m = mails.lock().unwrap();
    assert_eq!(m.len(), 1);
    assert!(m[0].contains("shen@example.org"));
    assert!(
        m[0].contains("@yingji>"),
        "the message id is the delivery id"
    );
    let r = std::mem::take(&mut *rx.lock().unwrap());
    let bodies: Vec<&Value> = r.delivered.iter().collect();
    assert!(
        bodies
            .iter()
            .any(|b| b["msgtype"] == "text" && b["text"]["mentioned_mobile_list"].is_array())
    );
    assert!(
        bodies
            .iter()
            .any(|b| b["msgtype"] == "text" && b["at"]["isAtAll"] == false)
    );
    assert!(bodies.iter().any(|b| {
        b["msg_type"] == "text"
            && b["content"]["text"]
                .as_str()
                .unwrap()
                .starts_with("【演练】")
    }));
    // Every robot request carries the message id: in the X-Yingji-Message-Id header, and as
    // the text's last line (the robots' formats have no id field).
    assert_eq!(r.requests.len(), 3);
    for (id, b) in &r.requests {
        assert_eq!(id.len(), 36, "{id}");
        let text = b["text"]["content"]
            .as_str()
            .or(b["content"]["text"].as_str())
            .unwrap();
        assert!(text.ends_with(&format!("\n消息编号：{id}")), "{text}");
    }
}

/// A call to six people on one webhook receiver, and a worker whose webhook channel sends at
/// most `per_second` (burst 1).
async fn six_on_a_limited_webhook(per_second: f64) -> (Fixture, Shared, Arc<Worker>) {
    let f = fixture().await;
    let (url, rx) = webhook_receiver().await;
    let mut people = vec![];
    for i in 0..6 {
        let n = format!("值班员{i}");
        let id = person(&f, &n, None, &[("webhook", &url)]).await;
        people.push((id, n));
    }
    let refs: Vec<(Uuid, &str)> = people.iter().map(|(i, n)| (*i, n.as_str())).collect();
    call(&f, &refs, false).await;
    let mut c = cfg();
    c.channels.insert(
        "webhook".into(),
        yingji_notify::config::ChannelLimits {
            per_second,
            burst: 1,
            concurrency: 4,
            timeout_ms: 5_000,
        },
    );
    let w = worker(&f, c);
    (f, rx, w)
}

#[tokio::test]
async fn rate_limits_come_from_configuration() {
    let (_f, rx, w) = six_on_a_limited_webhook(10.0).await;
    let t = std::time::Instant::now();
    assert_eq!(w.run_once().await.unwrap().sent, 6);
    // 1 at once, then 5 more at 10/s: at least ~0.5 s.
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(450),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(rx.lock().unwrap().delivered.len(), 6);
}

/// Three processes share a channel's rate: each sends at a third of it (issue 21: three at
/// 2/s reached a gateway at 6/s).
#[tokio::test]
async fn processes_share_a_channels_rate() {
    let (_f, rx, w) = six_on_a_limited_webhook(30.0).await;
    w.set_processes(3);
    let t = std::time::Instant::now();
    assert_eq!(w.run_once().await.unwrap().sent, 6);
    // 1 at once, then 5 more at 30/3 = 10/s: at least ~0.5 s (alone: ~0.17 s).
    assert!(
        t.elapsed() >= std::time::Duration::from_millis(450),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(rx.lock().unwrap().delivered.len(), 6);
}

/// A receiver that answers its first `slow` requests only after `delay`: every request as
/// (message id header, body, when it arrived), and how many it has answered.
#[derive(Default)]
struct Timed {
    arrived: Vec<(String, Value, std::time::Instant)>,
    answered: usize,
}

async fn slow_receiver(delay: std::time::Duration, slow: usize) -> (String, Arc<Mutex<Timed>>) {
    let shared: Arc<Mutex<Timed>> = Arc::default();
    let s = shared.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let s = s.clone();
            async move {
                let id = headers
                    .get("x-yingji-message-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let n = {
                    let mut t = s.lock().unwrap();
                    t.arrived.push((id, body.0, std::time::Instant::now()));
                    t.arrived.len()
                };
                if n <= slow {
                    tokio::time::sleep(delay).await;
                }
                s.lock().unwrap().answered += 1;
                StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), shared)
}

/// The state of a person's delivery on a channel.
async fn state_for(store: &Store, person: Uuid, channel: &str) -> Vec<String> {
    let f = yingji_store::notify::DeliveryFilter {
        scope_path: "/".into(),
        channel: Some(channel.into()),
        limit: 100,
        ..Default::default()
    };
    store
        .list_deliveries(&f)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| d.person_id == Some(person))
        .map(|d| d.state)
        .collect()
}

/// Waits (up to `within`) until `cond` holds; answers how long it took.
async fn until<F, Fut>(within: std::time::Duration, mut cond: F) -> std::time::Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let t = std::time::Instant::now();
    while !cond().await {
        assert!(t.elapsed() < within, "not within {within:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    t.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_destination_does_not_hold_the_others() {
    let f = fixture().await;
    let slow_for = std::time::Duration::from_secs(5);
    let (slow_url, slow) = slow_receiver(slow_for, usize::MAX).await;
    let (fast_url, fast) = slow_receiver(std::time::Duration::ZERO, 0).await;
    let a = person(&f, "慢一", None, &[("webhook", &slow_url)]).await;
    let b = person(&f, "快二", None, &[("webhook", &fast_url)]).await;
    let mut c = cfg();
    c.poll_ms = 50;
    let w = worker(&f, c);
    let running = w.clone().spawn();
    let t0 = std::time::Instant::now();
    call(&f, &[(a, "慢一"), (b, "快二")], false).await;
    w.wake.notify_one();

    // The other person's message arrives at once, and is recorded sent, while the slow
    // destination has not answered.
    until(std::time::Duration::from_secs(2), || async {
        fast.lock().unwrap().arrived.len() == 1
    })
    .await;
    until(std::time::Duration::from_secs(2), || async {
        state_for(&f.store, b, "webhook").await == ["sent"]
    })
    .await;
    assert_eq!(
        slow.lock().unwrap().arrived.len(),
        1,
        "the slow one was sent too"
    );
    assert_eq!(slow.lock().unwrap().answered, 0, "and has not answered yet");
    assert_eq!(state_for(&f.store, a, "webhook").await, ["sending"]);
    assert!(t0.elapsed() < slow_for / 2, "{:?}", t0.elapsed());

    // A new call meanwhile: its in-app message is written and its webhook sent at once.
    let t1 = std::time::Instant::now();
    call(&f, &[(b, "快二")], false).await;
    w.wake.notify_one();
    until(std::time::Duration::from_secs(2), || async {
        f.store.inbox(b, 10).await.unwrap().len() == 2
    })
    .await;
    until(std::time::Duration::from_secs(2), || async {
        fast.lock().unwrap().arrived.len() == 2
    })
    .await;
    assert!(t1.elapsed() < std::time::Duration::from_secs(2));
    assert_eq!(slow.lock().unwrap().answered, 0, "still in flight");

    // The slow one is recorded when it answers.
    until(slow_for * 2, || async {
        state_for(&f.store, a, "webhook").await == ["sent"]
    })
    .await;
    assert_eq!(slow.lock().unwrap().arrived.len(), 1, "sent once");
    running.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_batch_resends_only_what_was_in_flight() {
    let f = fixture().await;
    // The first request to the slow receiver hangs past the kill; later ones answer at once.
    let (slow_url, slow) = slow_receiver(std::time::Duration::from_secs(60), 1).await;
    let (fast_url, fast) = slow_receiver(std::time::Duration::ZERO, 0).await;
    let mut people = vec![];
    for i in 0..4 {
        let n = format!("值班员{i}");
        people.push((person(&f, &n, None, &[("webhook", &fast_url)]).await, n));
    }
    let late = person(&f, "迟五", None, &[("webhook", &slow_url)]).await;
    people.push((late, "迟五".into()));
    let refs: Vec<(Uuid, &str)> = people.iter().map(|(i, n)| (*i, n.as_str())).collect();
    call(&f, &refs, false).await;
    let c = cfg();
    let a = worker(&f, c.clone());
    let round = tokio::spawn({
        let a = a.clone();
        async move { a.run_once().await }
    });
    // The four quick sends are recorded while the fifth is still in flight…
    until(std::time::Duration::from_secs(5), || async {
        let mut sent = 0;
        for (p, _) in &people[..4] {
            sent += usize::from(state_for(&f.store, *p, "webhook").await == ["sent"]);
        }
        sent == 4
    })
    .await;
    assert_eq!(slow.lock().unwrap().arrived.len(), 1);
    // …when the worker dies.
    round.abort();
    let _ = round.await;
    drop(a);
    assert_eq!(state_for(&f.store, late, "webhook").await, ["sending"]);

    // After the lease, another worker sends only the one that was in flight.
    f.clock.advance(SignedDuration::from_millis(c.lease_ms + 1));
    let b = worker(&f, c);
    let r = b.run_once().await.unwrap();
    assert_eq!((r.sent, r.failed, r.dead), (1, 0, 0), "{r:?}");
    assert_eq!(
        fast.lock().unwrap().arrived.len(),
        4,
        "no quick message went twice"
    );
    {
        let s = slow.lock().unwrap();
        assert_eq!(s.arrived.len(), 2);
        assert_eq!(s.arrived[0].0, s.arrived[1].0, "the same message id");
    }
    assert_eq!(state_for(&f.store, late, "webhook").await, ["sent"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sms_gateway_gets_the_message_id_and_is_reached_without_an_allow_list() {
    let f = fixture().await;
    let got: Arc<Mutex<Vec<(HeaderMap, Value)>>> = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/send",
        post(move |headers: HeaderMap, body: axum::Json<Value>| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push((headers, body.0));
                StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let id = Uuid::now_v7();
    let mut ws = WriteSet::default();
    ws.rows.push(Row::Person(yingji_store::PersonRow {
        id,
        jurisdiction_id: Uuid::from_u128(1),
        name: "钟敏".into(),
        phone: Some("13900000001".into()),
        email: None,
        token_hash: None,
        created_at: "2026-01-01T00:00:00.000000Z".into(),
    }));
    f.store.commit(ws).await.unwrap();
    call(&f, &[(id, "钟敏")], false).await;
    // The gateway is the operator's own (on loopback here): no allow-list entry needed.
    let mut c = cfg();
    c.allow_destinations = Default::default();
    c.sms = Some(serde_json::from_value(json!({"url": format!("http://{addr}/send")})).unwrap());
    let r = worker(&f, c).run_once().await.unwrap();
    assert_eq!(r.sent, 1, "{r:?}");
    let got = got.lock().unwrap();
    let (h, b) = &got[0];
    let mid = h["x-yingji-message-id"].to_str().unwrap();
    assert_eq!(h["idempotency-key"].to_str().unwrap(), mid);
    assert_eq!(b["id"], mid);
    assert_eq!(b["to"], "13900000001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destinations_on_restricted_addresses_get_nothing() {
    let f = fixture().await;
    let (url, rx) = webhook_receiver().await;
    let port = url
        .trim_start_matches("http://127.0.0.1:")
        .trim_end_matches("/hook")
        .to_string();
    // Stored as if before the rule (the API refuses the literal ones when saved).
    let literal = person(&f, "甲", None, &[("webhook", &url)]).await;
    let mapped = person(
        &f,
        "乙",
        None,
        &[("webhook", &format!("http://[::ffff:127.0.0.1]:{port}/hook"))],
    )
    .await;
    // A name that resolves to loopback: refused when connecting, by the resolver.
    let named = person(
        &f,
        "丙",
        None,
        &[
            ("webhook", &format!("http://localhost:{port}/hook")),
            ("wecom", &format!("http://LocalHost:{port}/hook")),
        ],
    )
    .await;
    call(&f, &[(literal, "甲"), (mapped, "乙"), (named, "丙")], false).await;
    let mut c = cfg();
    c.allow_destinations = Default::default();
    let w = worker(&f, c);
    let r = w.run_once().await.unwrap();
    assert_eq!((r.sent, r.failed, r.dead), (0, 0, 4), "{r:?}");
    assert!(
        rx.lock().unwrap().requests.is_empty(),
        "the receiver got nothing"
    );
    let mut errors = state_of(&f.store, "webhook").await;
    errors.extend(state_of(&f.store, "wecom").await);
    for (state, attempts, e) in &errors {
        assert_eq!((state.as_str(), *attempts), ("dead", 1), "{errors:?}");
        assert!(
            e.as_deref()
                .unwrap()
                .starts_with("destination not allowed: "),
            "{errors:?}"
        );
    }
    let e: Vec<String> = errors.iter().map(|x| x.2.clone().unwrap()).collect();
    assert!(
        e.iter()
            .any(|e| e.contains("127.0.0.1 is a loopback address")),
        "{e:?}"
    );
    // The IPv4-mapped form is written in hex by the URL parser.
    assert!(
        e.iter()
            .any(|e| e.contains("[::ffff:7f00:1] is a loopback address")),
        "{e:?}"
    );
    // The names were refused by the resolver, with the address they resolved to.
    assert_eq!(
        e.iter()
            .filter(|e| e.starts_with("destination not allowed: localhost (")
                && e.ends_with(") is a loopback address"))
            .count(),
        2,
        "{e:?}"
    );
    // The in-app copies were delivered.
    for p in [literal, mapped, named] {
        assert_eq!(f.store.inbox(p, 10).await.unwrap().len(), 1);
    }

    // With loopback allowed, the same destinations receive the messages.
    let f2 = fixture().await;
    let p = person(
        &f2,
        "丁",
        None,
        &[
            ("webhook", &format!("http://localhost:{port}/hook")),
            ("wecom", &format!("http://127.0.0.1:{port}/hook")),
        ],
    )
    .await;
    call(&f2, &[(p, "丁")], false).await;
    let r = worker(&f2, cfg()).run_once().await.unwrap();
    assert_eq!(r.sent, 2, "{r:?}");
    assert_eq!(rx.lock().unwrap().delivered.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_not_followed() {
    let f = fixture().await;
    let (target, rx) = webhook_receiver().await;
    let app = axum::Router::new().route(
        "/hook",
        post(move || {
            let target = target.clone();
            async move { (StatusCode::TEMPORARY_REDIRECT, [("location", target)]) }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let p = person(
        &f,
        "戊",
        None,
        &[("webhook", &format!("http://{addr}/hook"))],
    )
    .await;
    call(&f, &[(p, "戊")], false).await;
    let r = worker(&f, cfg()).run_once().await.unwrap();
    assert_eq!(r.dead, 1, "{r:?}");
    assert!(rx.lock().unwrap().requests.is_empty());
    let st = state_of(&f.store, "webhook").await;
    assert!(
        st[0]
            .2
            .as_deref()
            .unwrap()
            .contains("redirects are not followed"),
        "{st:?}"
    );
}

#[tokio::test]
async fn an_activation_call_goes_out_ahead_of_50000_pending_reminders() {
    let f = fixture().await;
    let (url, rx) = webhook_receiver().await;
    let on_duty = person(&f, "韩立春", None, &[("webhook", &url)]).await;
    let late = person(&f, "范文清", None, &[]).await;
    // 50,000 overdue-task reminders, all older than the call.
    let earlier = fmt_ts(f.clock.now_ts() - SignedDuration::from_hours(1));
    let mut ws = WriteSet::default();
    for n in 0..50_000 {
        ws.rows.push(Row::Outbox(OutboxRow {
            id: Uuid::now_v7(),
            event_id: Uuid::now_v7(),
            kind: "task_overdue".into(),
            payload: json!({
                "people": [{"person_id": late, "name": "范文清"}],
                "subject": "任务逾期提醒",
                "text": format!("第{n}项任务已逾期"),
                "jurisdiction_path": "/q/",
            })
            .to_string(),
            next_at: earlier.clone(),
            created_at: earlier.clone(),
        }));
    }
    f.store.commit(ws).await.unwrap();
    call(&f, &[(on_duty, "韩立春")], false).await;
    let w = worker(&f, cfg());
    let started = std::time::Instant::now();
    let r = w.run_once().await.unwrap();
    assert!(r.expanded > 0, "{r:?}");
    let took = until(std::time::Duration::from_secs(5), || {
        let rx = rx.clone();
        async move { !rx.lock().unwrap().delivered.is_empty() }
    })
    .await;
    let got = rx.lock().unwrap().delivered.clone();
    assert_eq!(
        got.len(),
        1,
        "the call reached the person on duty in the first round"
    );
    assert_eq!(got[0]["text"], "青石镇启动Ⅳ级响应，请立即到岗。");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "delivered {took:?} after the round, {:?} in all",
        started.elapsed()
    );
    // The reminders are still expanded, in later rounds.
    assert!(
        f.store
            .pending_outbox(10)
            .await
            .unwrap()
            .iter()
            .all(|o| o.kind == "task_overdue")
    );
}
