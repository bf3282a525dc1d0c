//! Every command kind of every aggregate reaches live pages in scope, and only them. Real
//! `/live` SSE streams are opened through the router by console sessions: the province
//! administrator's (the root: every scenario below is in its scope), 东湖街道's duty officer's (a
//! street none of the scenarios touches) and, between them, 青石镇's. Then scenarios — through
//! the API as the demo's people, or through the application as the ticker and the CLI do — run
//! every kind in `yingji_app::command::COMMAND_KINDS`, each so that it writes (a command that
//! changes nothing publishes nothing).
//!
//! The root's page must get a change of every kind (so a kind added without a scenario fails
//! here); the street's none but the one change made in the street at the end (which shows that
//! the stream was alive and had read everything committed before it); 青石镇's exactly the kinds
//! of what happened in 青石镇 and below; and a few changes must arrive within two seconds of
//! the command's answer.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use yingji_app::command::COMMAND_KINDS;

use crate::harness::{TestApp, report_body};
use crate::offers::{console_session, console_session_via};
use crate::on_both;

const ADMIN: &str = "demo-province-admin";
const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const MEMBER: &str = "demo-group-member";
const CLERK: &str = "demo-petition-clerk";
const SECGEN: &str = "demo-secretary-general";
const TOWN: &str = "demo-town-duty";
const STREET: &str = "demo-street-duty";
const PW: &str = yingji_app::accounts::DEMO_PASSWORD;

/// How long the test waits for a change that must come.
const PATIENCE: Duration = Duration::from_secs(10);
/// How soon after the command's answer a change must have reached a live page.
const PROMPT: Duration = Duration::from_secs(2);

/// A level-Ⅱ escalation policy added to the county plan, so that the ticker escalates calls.
const ESCALATION: &str = r#"

[[escalation]]
levels = ["II"]

[[escalation.steps]]
after = "5m"
to = "deputy"

[[escalation.steps]]
after = "15m"
to = "parent_office"
post = "city-duty-chief"
"#;

// ---------------------------------------------------------------------------------------------
// A live page

/// One open `/live` stream, read in the background: each `change` event's data with the
/// instant it arrived.
struct Live {
    who: &'static str,
    events: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Live {
    /// Signs `who` in on the console and opens its live stream through the router.
    async fn open(app: &TestApp, who: &'static str) -> Live {
        // The test moves the clock on by weeks: a session that long, or the stream would end
        // (as it should) when its session expires.
        let long = yingji_app::trust::TrustConfig {
            session_hours: 24 * 365,
            ..Default::default()
        };
        let cookie =
            console_session_via(&yingji_server::app(app.state.clone().with_trust(long)), who).await;
        let resp = app
            .router
            .clone()
            .oneshot(
                Request::get("/live")
                    .header(header::COOKIE, &cookie)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "/live for {who}");
        let ct = resp.headers()[header::CONTENT_TYPE].to_str().unwrap();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        let mut body = resp.into_body();
        let events: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
        let sink = events.clone();
        let reader = tokio::spawn(async move {
            let mut buf = String::new();
            // Keep-alives come every 15 seconds: a minute of silence is a dead stream.
            while let Ok(Some(Ok(frame))) =
                tokio::time::timeout(Duration::from_secs(60), body.frame()).await
            {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                buf.push_str(std::str::from_utf8(&data).expect("UTF-8 events"));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    let (mut event, mut data) = (None, None);
                    for line in block.lines() {
                        if let Some(e) = line.strip_prefix("event:") {
                            event = Some(e.trim().to_string());
                        } else if let Some(d) = line.strip_prefix("data:") {
                            data = Some(d.trim().to_string());
                        }
                    }
                    if event.as_deref() == Some("change")
                        && let Some(d) = data
                    {
                        sink.lock().unwrap().push((Instant::now(), d));
                    }
                }
            }
        });
        Live {
            who,
            events,
            reader,
        }
    }

    fn data(&self) -> Vec<String> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .map(|(_, d)| d.clone())
            .collect()
    }

    /// When the change `<kind> <stream_id> <command>` arrived, waiting for it up to `deadline`.
    async fn arrival(&self, stream_id: &str, command: &str, deadline: Instant) -> Option<Instant> {
        loop {
            let found = self.events.lock().unwrap().iter().find_map(|(at, d)| {
                let t: Vec<&str> = d.split(' ').collect();
                (t.len() == 3 && t[1] == stream_id && t[2] == command).then_some(*at)
            });
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Asserts that the change of `command` to `stream_id` reached this page within
    /// [`PROMPT`] of `answered` (when the command's answer came).
    async fn got_promptly(&self, stream_id: &str, command: &str, answered: Instant) {
        let at = self
            .arrival(stream_id, command, answered + PROMPT)
            .await
            .unwrap_or_else(|| {
                panic!(
                    "{}: no `{command}` change of {stream_id} within {PROMPT:?} of the answer: {:?}",
                    self.who,
                    self.data()
                )
            });
        assert!(at <= answered + PROMPT);
    }
}

// ---------------------------------------------------------------------------------------------
// Calling the API

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (s, v, _) = app
        .send(
            method,
            path,
            Some(token),
            Some(Body::from(body.to_string())),
            &[("content-type", "application/json")],
        )
        .await;
    (s, v)
}

/// A POST that must succeed.
async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = call(app, Method::POST, path, token, body).await;
    assert!(s.is_success(), "POST {path} as {token}: {s} {v}");
    v
}

/// A PUT that must succeed.
async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = call(app, Method::PUT, path, token, body).await;
    assert!(s.is_success(), "PUT {path} as {token}: {s} {v}");
    v
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    let (s, v) = app.get(path, token).await;
    assert!(s.is_success(), "GET {path} as {token}: {s} {v}");
    v
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("an id: {v}"))
        .to_string()
}

/// A reported, verified, assessed and activated incident of `headcount` people in 临溪市.
async fn active_incident(app: &TestApp, headcount: u32) -> String {
    let iid = id(&post(
        app,
        "/api/v1/incidents",
        DUTY,
        report_body(app, headcount).await,
    )
    .await);
    post(
        app,
        &format!("/api/v1/incidents/{iid}/verify"),
        DUTY,
        json!({}),
    )
    .await;
    post(
        app,
        &format!("/api/v1/incidents/{iid}/assess"),
        COMMANDER,
        json!({}),
    )
    .await;
    post(
        app,
        &format!("/api/v1/incidents/{iid}/activate"),
        COMMANDER,
        json!({}),
    )
    .await;
    iid
}

/// A call of incident `iid` that reaches 郑国平 (the demo's group member).
async fn call_to_member(app: &TestApp, iid: &str) -> String {
    let calls = get(app, &format!("/api/v1/incidents/{iid}/calls"), DUTY).await;
    let c = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["person"]["name"] == "郑国平")
        })
        .unwrap_or_else(|| panic!("a call to 郑国平: {calls}"))
        .clone();
    id(&c)
}

/// A webhook receiver that answers 410 Gone (a permanent failure: the delivery is dead at once).
async fn gone_receiver() -> String {
    let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = format!("http://{}/hook", gone.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = gone.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = vec![0u8; 65536];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(
                        b"HTTP/1.1 410 Gone\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .await;
            });
        }
    });
    at
}

// ---------------------------------------------------------------------------------------------
// The test

on_both! {
    every_command_kind_reaches_live_pages_in_scope_and_no_other => every_kind;
}

async fn every_kind(app: TestApp) {
    let county = app.jurisdiction("临溪市").await;
    let town = app.jurisdiction("青石镇").await;
    let city = app.jurisdiction("云岭市").await;
    let village = app.jurisdiction("枫林村").await;

    // Both pages are open before anything happens (their own sign-ins come before).
    let root = Live::open(&app, ADMIN).await;
    let street = Live::open(&app, STREET).await;
    let township = Live::open(&app, TOWN).await;

    // ---- Plans: the county plan revised with an escalation policy (plan.upload); the parent
    // jurisdiction's office that the policy calls last (holder.assign in 云岭市).
    let src = yingji_server::demo::EXAMPLE_PLANS
        .iter()
        .find(|(f, _)| *f == "linxiang-city.toml")
        .unwrap()
        .1;
    let (s, v) = call(
        &app,
        Method::POST,
        "/api/v1/plans",
        ADMIN,
        json!({ "jurisdiction_id": county, "source": format!("{src}{ESCALATION}") }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let he = app.person("何静怡").await;
    post(
        &app,
        &format!("/api/v1/jurisdictions/{city}/holders"),
        ADMIN,
        json!({ "post_id": "city-duty-chief", "person_id": he }),
    )
    .await;

    // ---- Directory and accounts.
    // A village under 青石镇 whose secretary owes the township plan's daily report
    // (jurisdiction.create, person.create, holder.assign, grant.add).
    let j = post(
        &app,
        "/api/v1/jurisdictions",
        ADMIN,
        json!({"parent_id": town, "name": "测试己村", "kind": "village"}),
    )
    .await;
    let secretary = "test-village-secretary-live-all";
    let p = post(
        &app,
        "/api/v1/people",
        ADMIN,
        json!({"jurisdiction_id": j["id"], "name": "村书记己", "token": secretary}),
    )
    .await;
    let secretary_id = id(&p);
    post(
        &app,
        &format!("/api/v1/jurisdictions/{}/holders", id(&j)),
        ADMIN,
        json!({"post_id": "village-secretaries", "person_id": p["id"]}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/people/{}/grants/add", id(&p)),
        ADMIN,
        json!({"role": "group_member", "jurisdiction_id": j["id"]}),
    )
    .await;
    // A contact in 临溪市: phone revealed (person.reveal), an account given (account.set),
    // disabled and enabled again, a role granted and taken back.
    let contact = id(&post(
        &app,
        "/api/v1/people",
        ADMIN,
        json!({"jurisdiction_id": county, "name": "测试联系人", "phone": "13987654321"}),
    )
    .await);
    let v = post(
        &app,
        &format!("/api/v1/people/{contact}/reveal"),
        COMMANDER,
        json!({"field": "phone", "reason": "通知其到场协助"}),
    )
    .await;
    assert_eq!(v["value"], "13987654321");
    post(
        &app,
        &format!("/api/v1/people/{contact}/account"),
        ADMIN,
        json!({"login": "test-contact", "password": "a-long-enough-one"}),
    )
    .await;
    for (path, body) in [
        ("disable", json!({"reason": "调离"})),
        ("enable", json!({"reason": "复岗"})),
        (
            "grants/add",
            json!({"role": "auditor", "jurisdiction_id": county}),
        ),
        (
            "grants/remove",
            json!({"role": "auditor", "jurisdiction_id": county}),
        ),
    ] {
        post(
            &app,
            &format!("/api/v1/people/{contact}/{path}"),
            ADMIN,
            body,
        )
        .await;
    }
    // A post given and taken back in 青石镇 (holder.assign, holder.remove).
    let wei = app.person("卫东升").await;
    let holder = json!({"post_id": "deputy-director", "person_id": wei});
    post(
        &app,
        &format!("/api/v1/jurisdictions/{town}/holders"),
        ADMIN,
        holder.clone(),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/jurisdictions/{town}/holders/remove"),
        ADMIN,
        holder,
    )
    .await;
    // 王晓明 signs in with his password and out again (account.sign-in, account.sign-out).
    let wang = app.person("王晓明").await;
    let (s, v, h) = app
        .send(
            Method::POST,
            "/api/v1/session",
            None,
            Some(Body::from(
                json!({"login": "duty-officer", "password": PW}).to_string(),
            )),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let signed_in = Instant::now();
    root.got_promptly(&wang, "account.sign-in", signed_in).await;
    let cookie = h["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = v["csrf_token"].as_str().unwrap().to_string();
    let (s, _, _) = app
        .send(
            Method::DELETE,
            "/api/v1/session",
            None,
            None,
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // 王晓明 signs in on the console with his token: a session, not the token, in the cookie
    // (account.token-sign-in).
    let t = Instant::now();
    console_session(&app, DUTY).await;
    root.got_promptly(&wang, "account.token-sign-in", t).await;
    // 郑国平's own token and password (token.create, token.revoke, account.password).
    let member = app.person("郑国平").await;
    let t = post(
        &app,
        "/api/v1/me/tokens",
        MEMBER,
        json!({"name": "现场终端"}),
    )
    .await;
    root.got_promptly(&member, "token.create", Instant::now())
        .await;
    post(
        &app,
        &format!("/api/v1/me/tokens/{}/revoke", id(&t)),
        MEMBER,
        json!({}),
    )
    .await;
    post(
        &app,
        "/api/v1/me/password",
        MEMBER,
        json!({"current_password": PW, "new_password": "a-new-long-password"}),
    )
    .await;

    // ---- Incidents. A: the whole lifecycle, with calls, messages and a dead delivery.
    let a = id(&post(
        &app,
        "/api/v1/incidents",
        DUTY,
        report_body(&app, 120).await,
    )
    .await);
    root.got_promptly(&a, "incident.report", Instant::now())
        .await;
    let at = |iid: &str, action: &str| format!("/api/v1/incidents/{iid}/{action}");
    post(&app, &at(&a, "verify"), DUTY, json!({"note": "电话核实"})).await;
    post(&app, &at(&a, "assess"), COMMANDER, json!({})).await;
    let active = post(&app, &at(&a, "activate"), COMMANDER, json!({})).await;
    let tasks: Vec<String> = active["tasks"].as_array().unwrap().iter().map(id).collect();
    assert!(tasks.len() >= 2, "{active}");
    // A recipient other than 郑国平 has a webhook that answers 410 Gone (person.channels);
    // the worker sends (the in-app messages, and the dead webhook delivery).
    let gone_at = gone_receiver().await;
    let calls = get(&app, &at(&a, "calls"), DUTY).await;
    let hooked = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["recipients"].as_array().unwrap().clone())
        .find(|r| r["person"]["name"] != "郑国平")
        .expect("a recipient other than 郑国平");
    let hooked = hooked["person"]["person_id"].as_str().unwrap().to_string();
    put(
        &app,
        &format!("/api/v1/people/{hooked}/channels"),
        ADMIN,
        json!({"channels": [{"channel": "webhook", "address": gone_at}]}),
    )
    .await;
    app.state.notify.run_once().await.unwrap();
    // 郑国平 acknowledges A's call from his inbox (message.acknowledge).
    let inbox = get(&app, "/api/v1/inbox", MEMBER).await;
    let msg = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["incident_id"] == a.as_str())
        .unwrap_or_else(|| panic!("an in-app message of A: {inbox}"))
        .clone();
    let v = post(
        &app,
        &format!("/api/v1/inbox/{}/ack", id(&msg)),
        MEMBER,
        json!({}),
    )
    .await;
    assert_eq!(v["new"], true, "{v}");
    // The dead letter goes back in the queue (delivery.retry).
    let dead = get(
        &app,
        &format!("/api/v1/deliveries?incident_id={a}&state=dead"),
        DUTY,
    )
    .await;
    let dead = id(&dead["items"][0]);
    post(
        &app,
        &format!("/api/v1/deliveries/{dead}/retry"),
        DUTY,
        json!({}),
    )
    .await;
    root.got_promptly(&dead, "delivery.retry", Instant::now())
        .await;
    // A duty roster for the county (roster.set).
    put(
        &app,
        &format!("/api/v1/jurisdictions/{county}/rosters/duty-officer"),
        ADMIN,
        json!({
            "time_zone": "Asia/Shanghai", "start_date": "2026-03-02",
            "shifts": [{"id": "day", "name": "白班", "start": "08:30", "end": "17:30"}],
            "rotation": [{"person_id": wang, "name": "王晓明"}],
        }),
    )
    .await;

    // B: a regrade declined; 郑国平 acknowledges its call directly; one task started, one
    // cancelled.
    let b = active_incident(&app, 120).await;
    let member_call = call_to_member(&app, &b).await;
    let v = post(
        &app,
        &format!("/api/v1/calls/{member_call}/ack"),
        MEMBER,
        json!({}),
    )
    .await;
    assert_eq!(v["new"], true, "{v}");
    let inc_b = get(&app, &format!("/api/v1/incidents/{b}"), DUTY).await;
    let b_tasks: Vec<String> = inc_b["tasks"].as_array().unwrap().iter().map(id).collect();
    assert!(b_tasks.len() >= 2, "{inc_b}");
    post(
        &app,
        &format!("/api/v1/tasks/{}/start", b_tasks[0]),
        DUTY,
        json!({}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/tasks/{}/cancel", b_tasks[1]),
        DUTY,
        json!({"reason": "另有安排"}),
    )
    .await;
    let v = post(&app, &at(&b, "updates"), DUTY, json!({"headcount": 600})).await;
    assert!(v["regrade"].is_object(), "a regrade is proposed: {v}");
    post(
        &app,
        &format!("/api/v1/incidents/{b}/regrade/decline"),
        COMMANDER,
        json!({"reason": "人数系误报"}),
    )
    .await;

    // C: unfounded. D: a warning issued and lifted. E: escalated to 云岭市.
    let c = id(&post(&app, "/api/v1/incidents", DUTY, report_body(&app, 30).await).await);
    post(
        &app,
        &at(&c, "unfounded"),
        DUTY,
        json!({"reason": "核实不实"}),
    )
    .await;
    let d = id(&post(&app, "/api/v1/incidents", DUTY, report_body(&app, 60).await).await);
    post(&app, &at(&d, "verify"), DUTY, json!({})).await;
    post(&app, &at(&d, "assess"), COMMANDER, json!({})).await;
    post(&app, &at(&d, "warning"), DUTY, json!({})).await;
    post(
        &app,
        &at(&d, "lift-warning"),
        DUTY,
        json!({"reason": "人员已散去"}),
    )
    .await;
    let e = id(&post(
        &app,
        "/api/v1/incidents",
        DUTY,
        report_body(&app, 600).await,
    )
    .await);
    post(&app, &at(&e, "verify"), DUTY, json!({})).await;
    let v = post(
        &app,
        &at(&e, "escalate"),
        DUTY,
        json!({"note": "人数超过五百，报云岭市"}),
    )
    .await;
    assert!(v["parent_incident"].is_string(), "{v}");

    // Nobody works A's other tasks for 31 minutes: the ticker marks them overdue
    // (incident.tick) and escalates the unanswered calls (callout.tick).
    app.advance_mins(31);
    assert!(yingji_server::tick(&app.state).await.unwrap() > 0);
    root.got_promptly(&a, "incident.tick", Instant::now()).await;
    post(
        &app,
        &format!("/api/v1/tasks/{}/acknowledge", tasks[0]),
        DUTY,
        json!({}),
    )
    .await;
    let v = post(
        &app,
        &at(&a, "updates"),
        DUTY,
        json!({"headcount": 520, "grievances": ["要求公开工程款结算"], "care": ["已送饮用水"]}),
    )
    .await;
    assert_eq!(v["regrade"]["to"]["id"], "I", "{v}");
    post(
        &app,
        &format!("/api/v1/incidents/{a}/regrade/accept"),
        COMMANDER,
        json!({}),
    )
    .await;
    // The report level Ⅰ adds (to 云岭市, by the command), submitted by the commander post's
    // deputy.
    let inc_a = get(&app, &format!("/api/v1/incidents/{a}"), DUTY).await;
    let rid = inc_a["upward_reports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["to"].as_str().unwrap().starts_with("云岭市"))
        .map(id)
        .expect("level Ⅰ owes a report to 云岭市");
    post(
        &app,
        &format!("/api/v1/incidents/{a}/upward-reports/{rid}/submit"),
        COMMANDER,
        json!({"text": "现场约520人，已启动Ⅰ级响应"}),
    )
    .await;
    let lin = app.person("林建国").await;
    post(
        &app,
        &at(&a, "consultations"),
        DUTY,
        json!({"step": "police", "participants": ["市信访局", "市公安局"], "conclusion": "报请调集警力"}),
    )
    .await;
    // Two requests, named approver 林建国 (demo-commander): one approved, one refused.
    for (step, decision, body) in [
        ("police", "approve", json!({})),
        ("dispersal", "refuse", json!({"reason": "尚可劝离"})),
    ] {
        let v = post(
            &app,
            &at(&a, "coercive-steps"),
            "demo-plac-secretary",
            json!({"step": step, "approver_id": lin, "reason": "有人冲击大门"}),
        )
        .await;
        let rid = v["coercive_steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["step"] == step)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        post(
            &app,
            &at(&a, &format!("coercive-steps/{rid}/{decision}")),
            COMMANDER,
            body,
        )
        .await;
    }
    app.advance_mins(60);
    post(
        &app,
        &at(&a, "end"),
        COMMANDER,
        json!({"reason": "群众已散去"}),
    )
    .await;
    let v = post(
        &app,
        &at(&a, "obligations"),
        DUTY,
        json!({"kind": "reply", "text": "书面答复上访代表", "owner": "市信访局", "due_at": "2026-03-20T17:00:00+08:00"}),
    )
    .await;
    let oid = id(&v["obligations"][0]);
    let inc_a = get(&app, &format!("/api/v1/incidents/{a}"), DUTY).await;
    for t in inc_a["tasks"].as_array().unwrap() {
        // The response's own tasks were closed by the end; the aftermath's are worked.
        if !["done", "closed"].contains(&t["state"].as_str().unwrap()) {
            post(
                &app,
                &format!("/api/v1/tasks/{}/done", id(t)),
                DUTY,
                json!({}),
            )
            .await;
        }
    }
    post(
        &app,
        &format!("/api/v1/incidents/{a}/obligations/{oid}/fulfil"),
        DUTY,
        json!({"channel": "挂号信", "outcome": "已答复"}),
    )
    .await;
    let v = post(
        &app,
        &at(&a, "review"),
        COMMANDER,
        json!({"summary": "处置及时", "lessons": ["到岗偏慢"], "corrective_actions": [{"title": "完善值班", "owner_post": "township-head", "due_at": app.clock_now_plus_days(30)}]}),
    )
    .await;
    let ca = id(&v["review"]["corrective_actions"][0]);
    // The review as a document (incident.document).
    post(
        &app,
        &at(&a, "documents"),
        COMMANDER,
        json!({"kind": "review"}),
    )
    .await;
    // A release: drafted, approved by the person it names, published; another sent back.
    let lin = app.person("林建国").await;
    let r = post(
        &app,
        "/api/v1/releases",
        DUTY,
        json!({"title": "交通管制信息", "text": "市政府东门临时管制", "approver_person_id": lin}),
    )
    .await;
    let rid = id(&r);
    post(
        &app,
        &format!("/api/v1/releases/{rid}/approve"),
        COMMANDER,
        json!({}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/releases/{rid}/publish"),
        DUTY,
        json!({}),
    )
    .await;
    let r2 = post(
        &app,
        "/api/v1/releases",
        DUTY,
        json!({"title": "草稿", "text": "待定", "approver_person_id": lin}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/releases/{}/reject", id(&r2)),
        COMMANDER,
        json!({"note": "内容不全"}),
    )
    .await;
    // Drills: one started from a script, its incident activated, its two injects played by the
    // ticker (drill.inject), evaluated (drill.evaluate); another stopped (drill.stop); the
    // office reminded of a drill owed (drill.remind, as the ticker does near a period's end).
    let script = r#"
[drill]
title = "演练：值班联络检验"
plan = "linxiang-city-mass-petition"
scenario = "某小区住户到市政府门前反映供暖问题"
[report]
title = "演练：小区住户聚集"
headcount = 40
[[injects]]
at = "1m"
kind = "message"
text = "值班电话无人接听"
[[injects]]
at = "2m"
kind = "end"
"#;
    let d1 = post(&app, "/api/v1/drills", DUTY, json!({"script": script})).await;
    let d1_incident = d1["incident_id"].as_str().unwrap().to_string();
    for (a, who) in [
        ("verify", DUTY),
        ("assess", COMMANDER),
        ("activate", COMMANDER),
    ] {
        post(&app, &at(&d1_incident, a), who, json!({})).await;
    }
    app.advance_mins(3);
    yingji_server::tick(&app.state).await.unwrap();
    post(
        &app,
        &format!("/api/v1/drills/{}/evaluation", id(&d1)),
        COMMANDER,
        json!({"summary": "联络顺畅"}),
    )
    .await;
    let d2 = post(&app, "/api/v1/drills", DUTY, json!({"script": script})).await;
    post(
        &app,
        &format!("/api/v1/drills/{}/stop", id(&d2)),
        DUTY,
        json!({"reason": "真实警情，演练中止"}),
    )
    .await;
    // A reserve item (reserve.create), issued to the drill's incident (reserve.move).
    let item = post(
        &app,
        "/api/v1/reserves",
        DUTY,
        json!({"name": "帐篷", "unit": "顶", "quantity": 10, "minimum": 2, "location": "市应急物资库"}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/reserves/{}/movements", id(&item)),
        DUTY,
        json!({"kind": "issue", "quantity": 2, "incident_id": d1_incident}),
    )
    .await;
    // A file on the drill's incident (attachment.add).
    let (s, v, _) = app
        .send(
            Method::POST,
            &format!("/api/v1/attachments?subject_kind=incident&subject_id={d1_incident}&file_name=minutes.txt"),
            Some(DUTY),
            Some(Body::from("演练会议纪要")),
            &[("content-type", "application/octet-stream")],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // An instruction on the drill's incident (directive.record), answered (directive.answer);
    // a meeting whose decision passes its deadline (directive.tick, the ticker's); a
    // commendation (sanction.record).
    let instruction = post(
        &app,
        "/api/v1/directives",
        COMMANDER,
        json!({"kind": "instruction", "subject_kind": "incident", "subject_id": d1_incident,
               "title": "分管副市长（演示）", "text": "妥善处置",
               "follow_ups": [{"text": "报告进展", "owner": "市信访局", "due_at": app.clock_now_plus_days(1)}]}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/directives/{}/answers", id(&instruction)),
        DUTY,
        json!({"follow_up_id": instruction["follow_ups"][0]["id"], "answer": "已报告"}),
    )
    .await;
    post(
        &app,
        "/api/v1/directives",
        DUTY,
        json!({"kind": "meeting", "subject_kind": "incident", "subject_id": d1_incident,
               "title": "协调会", "text": "议定事项如下",
               "follow_ups": [{"text": "核实情况", "owner": "市住建局", "due_at": app.clock_now_plus_days(1)}]}),
    )
    .await;
    app.clock.advance(
        std::time::Duration::from_secs(2 * 86_400)
            .try_into()
            .unwrap(),
    );
    yingji_server::tick(&app.state).await.unwrap();
    post(
        &app,
        "/api/v1/sanctions",
        COMMANDER,
        json!({"kind": "commendation", "subject_kind": "incident", "subject_id": d1_incident,
               "concerns": "市信访局", "basis": "预案 奖励与责任追究", "decided_by": "市应急指挥部",
               "decision": "通报表扬", "decided_on": "2026-03-04"}),
    )
    .await;
    // A representative of the gathering recorded (representative.record), their contact read
    // with a reason (representative.reveal), then withdrawn (representative.withdraw).
    let rep = post(
        &app,
        &format!("/api/v1/incidents/{d1_incident}/representatives"),
        DUTY,
        json!({"name": "测试代表", "contact": "13900001111", "speaks_for": "小区住户"}),
    )
    .await;
    post(
        &app,
        &format!(
            "/api/v1/incidents/{d1_incident}/representatives/{}/reveal",
            id(&rep)
        ),
        COMMANDER,
        json!({"field": "contact", "reason": "约定对话时间"}),
    )
    .await;
    post(
        &app,
        &format!(
            "/api/v1/incidents/{d1_incident}/representatives/{}/withdraw",
            id(&rep)
        ),
        DUTY,
        json!({"reason": "群众另行推选"}),
    )
    .await;
    // A team (team.create) put on standby (team.readiness); a budget line (budget.create) spent
    // on the drill's incident (budget.spend).
    let team = post(
        &app,
        "/api/v1/teams",
        DUTY,
        json!({"name": "应急救援队", "leader": "队长"}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/teams/{}/readiness", id(&team)),
        DUTY,
        json!({"readiness": "standby"}),
    )
    .await;
    let line = post(
        &app,
        "/api/v1/budget-lines",
        DUTY,
        json!({"plan_id": "linxiang-city-mass-petition", "name": "保障经费", "amount_fen": 100_000}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/budget-lines/{}/spending", id(&line)),
        DUTY,
        json!({"incident_id": d1_incident, "amount_fen": 5_000}),
    )
    .await;
    let reminded = app
        .state
        .execute(
            &yingji_app::Actor::system(),
            None,
            &yingji_app::drills::RemindDrill(yingji_app::drills::DrillDuty {
                duty: "drill".into(),
                plan_id: "linxiang-city-mass-petition".into(),
                plan_title: "临溪市群体性上访事件应急预案".into(),
                jurisdiction_id: county.parse().unwrap(),
                jurisdiction: "临溪市".into(),
                every: "year".into(),
                period_start: "2027-01-01".into(),
                period_end: "2027-12-31".into(),
                status: "due_soon".into(),
                drill_id: None,
                plan_version: None,
                done_at: None,
            }),
        )
        .await
        .unwrap()
        .output();
    assert_eq!(reminded, Some(true));
    let reminded = app
        .state
        .execute(
            &yingji_app::Actor::system(),
            None,
            &yingji_app::drills::RemindDrill(yingji_app::drills::DrillDuty {
                duty: "revision".into(),
                plan_id: "linxiang-city-mass-petition".into(),
                plan_title: "临溪市群体性上访事件应急预案".into(),
                jurisdiction_id: county.parse().unwrap(),
                jurisdiction: "临溪市".into(),
                every: "year".into(),
                period_start: "2026-01-01".into(),
                period_end: "2026-12-31".into(),
                status: "overdue".into(),
                drill_id: None,
                plan_version: None,
                done_at: None,
            }),
        )
        .await
        .unwrap()
        .output();
    assert_eq!(reminded, Some(true));
    post(
        &app,
        &format!("/api/v1/incidents/{a}/corrective-actions/{ca}/link"),
        COMMANDER,
        json!({"plan_id": "linxiang-city-mass-petition", "version": 1}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/incidents/{a}/corrective-actions/{ca}/done"),
        COMMANDER,
        json!({}),
    )
    .await;
    let v = post(&app, &at(&a, "close"), COMMANDER, json!({})).await;
    assert_eq!(v["status"], "closed");

    // ---- Petition cases. The first through approval, routing and a lead (and a reveal).
    let case = |channel: &str| {
        json!({
            "jurisdiction_id": county, "channel": channel,
            "petitioners": [{ "name": "测试来信人", "contact": "13800000000" }],
            "title": "测试：反映小区停车位被占用", "grievance": "要求物业公司清理占用的停车位",
        })
    };
    let c1 = id(&post(&app, "/api/v1/cases", CLERK, case("letter")).await);
    root.got_promptly(&c1, "case.register", Instant::now())
        .await;
    let on = |cid: &str, action: &str| format!("/api/v1/cases/{cid}/{action}");
    post(
        &app,
        &on(&c1, "classify"),
        CLERK,
        json!({"category": "administrative", "topic": "城乡建设"}),
    )
    .await;
    post(
        &app,
        &on(&c1, "propose"),
        CLERK,
        json!({"text": "拟交市住建局办理"}),
    )
    .await;
    post(
        &app,
        &on(&c1, "approve"),
        COMMANDER,
        json!({"note": "同意"}),
    )
    .await;
    post(&app, &on(&c1, "approve"), SECGEN, json!({})).await;
    post(
        &app,
        &on(&c1, "route"),
        CLERK,
        json!({"kind": "assign", "target": "临溪市住建局"}),
    )
    .await;
    post(&app, &on(&c1, "lead"), CLERK, json!({"person_id": lin})).await;
    post(
        &app,
        &on(&c1, "reveal"),
        CLERK,
        json!({"petitioner": 0, "field": "contact", "reason": "电话回访"}),
    )
    .await;
    // The second: an extension asked and granted, and linked to the first.
    let c2 = id(&post(&app, "/api/v1/cases", CLERK, case("online")).await);
    post(
        &app,
        &on(&c2, "extension-request"),
        CLERK,
        json!({"days": 30, "reason": "案情复杂，需多部门会商"}),
    )
    .await;
    post(
        &app,
        &on(&c2, "extension-decision"),
        COMMANDER,
        json!({"approve": true}),
    )
    .await;
    post(&app, &on(&c2, "link"), CLERK, json!({"case_id": c1})).await;
    post(
        &app,
        &on(&c2, "supervise"),
        CLERK,
        json!({"step": "chase", "note": "请加快办理"}),
    )
    .await;

    // ---- Dispute screening in 青石镇.
    let r = post(
        &app,
        "/api/v1/disputes/rounds",
        TOWN,
        json!({"jurisdiction_id": town, "date": "2026-07-15"}),
    )
    .await;
    let rid = id(&r);
    post(
        &app,
        &format!("/api/v1/disputes/rounds/{rid}/submissions"),
        TOWN,
        json!({"unit_id": village, "nil": true}),
    )
    .await;
    let dsp = id(&post(
        &app,
        "/api/v1/disputes",
        TOWN,
        json!({
            "jurisdiction_id": village, "round_id": rid, "title": "测试：宅基地界址纠纷",
            "parties": [{"name": "甲户", "role": "申请方"}, {"name": "乙户", "role": "被申请方"}],
            "nature": "土地", "area": "枫林村三组", "risk": "major", "summary": "双方对界址有争议",
        }),
    )
    .await);
    root.got_promptly(&dsp, "dispute.register", Instant::now())
        .await;
    for (action, body) in [
        (
            "assign",
            json!({"unit": "青石镇司法所", "due_on": "2026-03-20"}),
        ),
        ("report-upward", json!({"reason": "涉及多户，重大疑难"})),
        (
            "result",
            json!({"resolved": true, "result": "经调解双方达成协议"}),
        ),
        ("follow-up", json!({"note": "回访双方，协议已履行"})),
        ("close", json!({})),
    ] {
        post(
            &app,
            &format!("/api/v1/disputes/{dsp}/{action}"),
            TOWN,
            body,
        )
        .await;
    }

    // ---- 1 May, 24:00 in Shanghai, five days before the first case is due: the ticker
    // chases the handling unit (case.tick). The reply comes, the follow-up visit closes it.
    app.clock.set("2026-05-01T16:00:00Z".parse().unwrap());
    yingji_server::tick(&app.state).await.unwrap();
    post(
        &app,
        &on(&c1, "reply"),
        CLERK,
        json!({"date": "2026-05-02", "channel": "书面邮寄", "summary": "已督促物业公司清理停车位"}),
    )
    .await;
    // The written reply as a document (case.document).
    post(
        &app,
        &on(&c1, "documents"),
        CLERK,
        json!({"kind": "case_reply"}),
    )
    .await;
    let v = post(
        &app,
        &on(&c1, "follow-up"),
        CLERK,
        json!({"satisfaction": "basically_satisfied"}),
    )
    .await;
    assert_eq!(v["status"], "closed");

    // ---- 12 August, 14:00 in Shanghai, inside the township plan's special period: the
    // village reports (report.submit); nobody reported the day before, so the ticker reminds
    // (report.remind).
    app.clock.set("2026-08-12T06:00:00Z".parse().unwrap());
    post(
        &app,
        "/api/v1/reports/submissions",
        secretary,
        json!({
            "plan_id": "township-special-period", "schedule_id": "daily-report",
            "due_at": "2026-08-12T07:00:00Z", "nil": false, "content": "排查矛盾纠纷2件，已化解1件",
        }),
    )
    .await;
    yingji_server::tick(&app.state).await.unwrap();

    // ---- The operator purges the petitioners' data of cases closed before now, as `yingji
    // purge` does (case.purge).
    let cutoff = {
        use yingji_domain::clock::Clock;
        app.clock.now()
    };
    let purged = app
        .state
        .execute(
            &yingji_app::Actor::system(),
            None,
            &yingji_app::cases::PurgePetitioners {
                cutoff,
                retention_days: None,
                dry_run: false,
            },
        )
        .await
        .unwrap()
        .output()
        .unwrap();
    assert!(purged.cases >= 1, "{purged:?}");
    let purge_stream = purged.event_stream.expect("a purge event").to_string();
    root.got_promptly(&purge_stream, "case.purge", Instant::now())
        .await;

    // ---- At last 青石镇's duty officer, then 东湖街道's, change their own channels: the one
    // change in the township's scope and in the street's that is not below another. Once a page
    // has the last change it may see, it has read everything committed before it.
    let liu = app.person("刘洋").await;
    let jiang = app.person("蒋雨桐").await;
    for (person, token, phone) in [(&liu, TOWN, "13900000010"), (&jiang, STREET, "13900000011")] {
        put(
            &app,
            &format!("/api/v1/people/{person}/channels"),
            token,
            json!({"channels": [{"channel": "sms", "address": phone}]}),
        )
        .await;
    }
    let deadline = Instant::now() + PATIENCE;
    for (page, last) in [(&root, &jiang), (&street, &jiang), (&township, &liu)] {
        assert!(
            page.arrival(last, "person.channels", deadline)
                .await
                .is_some(),
            "{}: the last change it may see did not arrive: {:?}",
            page.who,
            page.data()
        );
    }

    // (1) The page in scope got a change of every kind.
    let root_events = root.data();
    assert!(
        !root_events.iter().any(|d| d.starts_with("lagged")),
        "the page lagged behind: {root_events:?}"
    );
    let seen: BTreeSet<&str> = root_events
        .iter()
        .filter_map(|d| d.split(' ').nth(2))
        .collect();
    let missing: Vec<&str> = COMMAND_KINDS
        .iter()
        .copied()
        .filter(|k| !seen.contains(k))
        .collect();
    assert!(
        missing.is_empty(),
        "no live change of these command kinds reached the page in scope: {missing:?}"
    );
    let unknown: Vec<&&str> = seen
        .iter()
        .filter(|k| **k != "-" && !COMMAND_KINDS.contains(k))
        .collect();
    assert!(unknown.is_empty(), "changes of unlisted kinds: {unknown:?}");

    // (2) The page out of scope got nothing but the street's own change.
    let street_events = street.data();
    assert_eq!(
        street_events,
        vec![format!("person {jiang} person.channels")],
        "the page out of scope got changes it may not see"
    );

    // (3) 青石镇's page, between the two, got exactly the kinds of what happened in 青石镇 and
    // below, each also on the root's page (a change published with a jurisdiction too high or
    // too low would be missed here, or leak here).
    let town_events = township.data();
    for d in &town_events {
        assert!(
            root_events.contains(d),
            "{d} reached 青石镇 but not the root"
        );
    }
    let town_seen: BTreeSet<&str> = town_events
        .iter()
        .filter_map(|d| d.split(' ').nth(2))
        .collect();
    let town_want: BTreeSet<&str> = [
        // The village, its secretary, their post and role; a post given and taken back.
        "jurisdiction.create",
        "person.create",
        "holder.assign",
        "grant.add",
        "holder.remove",
        // Screening.
        "round.open",
        "round.submit",
        "dispute.register",
        "dispute.assign",
        "dispute.report-upward",
        "dispute.result",
        "dispute.follow-up",
        "dispute.close",
        // Reports.
        "report.submit",
        "report.remind",
        // The township's last change.
        "person.channels",
    ]
    .into_iter()
    .collect();
    assert_eq!(
        town_seen, town_want,
        "what reached 青石镇's page: {town_events:?}"
    );
    // Of the people's changes, only those of people in 青石镇 and below (not 何静怡's in 云岭市,
    // say, whose post was given by the same kind of command).
    let town_people: BTreeSet<&str> = [secretary_id.as_str(), wei.as_str(), liu.as_str()].into();
    for d in &town_events {
        let t: Vec<&str> = d.split(' ').collect();
        assert!(
            t[0] != "person" || town_people.contains(t[1]),
            "a change of someone outside 青石镇 reached its page: {d}"
        );
    }

    for page in [root, street, township] {
        page.reader.abort();
    }
}
