//! The console offers an action exactly when the API would accept it from that person, and a
//! forged console form gets the same refusal as the API: a table over every identity of the demo
//! and every action of the console's pages, each on a fresh record in the state the action needs.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{TestApp, report_body};

/// Every demo identity, by token.
pub const IDENTITIES: &[&str] = &[
    "demo-duty-officer",
    "demo-commander",
    "demo-group-member",
    "demo-city-duty",
    "demo-town-duty",
    "demo-street-duty",
    "demo-province-admin",
    "demo-plac-secretary",
    "demo-petition-clerk",
    "demo-secretary-general",
    "demo-auditor",
];

pub async fn page(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    form: Option<String>,
) -> (StatusCode, String) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie);
    let body = match form {
        Some(f) => {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f)
        }
        None => Body::empty(),
    };
    let resp = app
        .router
        .clone()
        .oneshot(b.body(body).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// Signs in with a demo token through the console's form; returns the session cookie.
pub async fn console_session(app: &TestApp, token: &str) -> String {
    let resp = app
        .router
        .clone()
        .oneshot(Request::get("/signin").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let pre = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html =
        String::from_utf8_lossy(&resp.into_body().collect().await.unwrap().to_bytes()).into_owned();
    let csrf = csrf_of(&html);
    let r = app
        .router
        .clone()
        .oneshot(
            Request::post("/signin")
                .header(header::COOKIE, &pre)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={csrf}&token={token}&next=/")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {token}");
    r.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("yj_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 40].to_string()
}

/// The state an incident must be in for an action.
#[derive(Debug, Clone, Copy)]
enum Stage {
    Reported,
    Verified,
    Assessed,
    Active,
    RegradePending,
    Ended,
    EndedOwing,
}

async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, body).await;
    assert!(s.is_success(), "{path} as {token}: {s} {v}");
    v
}

/// A fresh incident in `stage`, made by the people whose job it is. Returns its id and, for
/// actions on a part of it, that part's id (the first task, the commitment owed).
async fn incident(app: &TestApp, stage: Stage) -> (String, Option<String>) {
    let inc = ok(
        app,
        "/api/v1/incidents",
        "demo-duty-officer",
        report_body(app, 120).await,
    )
    .await;
    let id = inc["id"].as_str().unwrap().to_string();
    let at = |a: &str| format!("/api/v1/incidents/{id}/{a}");
    if matches!(stage, Stage::Reported) {
        return (id, None);
    }
    ok(app, &at("verify"), "demo-duty-officer", json!({})).await;
    if matches!(stage, Stage::Verified) {
        return (id, None);
    }
    ok(app, &at("assess"), "demo-commander", json!({})).await;
    if matches!(stage, Stage::Assessed) {
        return (id, None);
    }
    let active = ok(app, &at("activate"), "demo-commander", json!({})).await;
    let task = active["tasks"][0]["id"].as_str().map(str::to_string);
    match stage {
        Stage::Active => return (id, task),
        Stage::RegradePending => {
            ok(
                app,
                &at("updates"),
                "demo-duty-officer",
                json!({"headcount": 600}),
            )
            .await;
            return (id, None);
        }
        _ => {}
    }
    ok(
        app,
        &at("end"),
        "demo-plac-secretary",
        json!({"reason": "现场人员已散去"}),
    )
    .await;
    if matches!(stage, Stage::Ended) {
        return (id, None);
    }
    let due = app.clock_now_plus_days(3);
    let v = ok(
        app,
        &at("obligations"),
        "demo-duty-officer",
        json!({"kind": "commitment", "text": "十日内答复", "owner": "市住建局", "due_at": due}),
    )
    .await;
    let oid = v["obligations"][0]["id"].as_str().map(str::to_string);
    (id, oid)
}

/// One action of the incident room: the stage it needs, the console form's path and fields,
/// and the API request that does the same.
struct Action {
    name: &'static str,
    stage: Stage,
    /// (console path after `/incidents/{id}`, form fields)
    console: fn(&str, Option<&str>) -> (String, String),
    /// (API path, JSON body)
    api: fn(&str, Option<&str>) -> (String, Value),
}

fn actions() -> Vec<Action> {
    vec![
        Action {
            name: "verify",
            stage: Stage::Reported,
            console: |_, _| ("/do/verify".into(), String::new()),
            api: |id, _| (format!("/api/v1/incidents/{id}/verify"), json!({})),
        },
        Action {
            name: "unfounded",
            stage: Stage::Reported,
            console: |_, _| ("/do/unfounded".into(), "reason=%E4%B8%8D%E5%AE%9E".into()),
            api: |id, _| {
                (
                    format!("/api/v1/incidents/{id}/unfounded"),
                    json!({"reason": "不实"}),
                )
            },
        },
        Action {
            name: "assess",
            stage: Stage::Verified,
            console: |_, _| ("/do/assess".into(), String::new()),
            api: |id, _| (format!("/api/v1/incidents/{id}/assess"), json!({})),
        },
        Action {
            name: "warning",
            stage: Stage::Assessed,
            console: |_, _| ("/do/warning".into(), String::new()),
            api: |id, _| (format!("/api/v1/incidents/{id}/warning"), json!({})),
        },
        Action {
            name: "activate",
            stage: Stage::Assessed,
            console: |_, _| ("/do/activate".into(), String::new()),
            api: |id, _| (format!("/api/v1/incidents/{id}/activate"), json!({})),
        },
        Action {
            name: "updates",
            stage: Stage::Active,
            console: |_, _| ("/do/updates".into(), "grievances=%E8%A1%A5%E5%81%BF".into()),
            api: |id, _| {
                (
                    format!("/api/v1/incidents/{id}/updates"),
                    json!({"grievances": ["补偿"]}),
                )
            },
        },
        Action {
            name: "end",
            stage: Stage::Active,
            console: |_, _| ("/do/end".into(), "reason=x".into()),
            api: |id, _| {
                (
                    format!("/api/v1/incidents/{id}/end"),
                    json!({"reason": "x"}),
                )
            },
        },
        Action {
            name: "acknowledge a task",
            stage: Stage::Active,
            console: |_, t| (format!("/tasks/{}/acknowledge", t.unwrap()), String::new()),
            api: |_, t| {
                (
                    format!("/api/v1/tasks/{}/acknowledge", t.unwrap()),
                    json!({}),
                )
            },
        },
        Action {
            name: "regrade-accept",
            stage: Stage::RegradePending,
            console: |_, _| ("/do/regrade-accept".into(), String::new()),
            api: |id, _| (format!("/api/v1/incidents/{id}/regrade/accept"), json!({})),
        },
        Action {
            name: "regrade-decline",
            stage: Stage::RegradePending,
            console: |_, _| ("/do/regrade-decline".into(), "reason=x".into()),
            api: |id, _| {
                (
                    format!("/api/v1/incidents/{id}/regrade/decline"),
                    json!({"reason": "x"}),
                )
            },
        },
        Action {
            name: "obligations",
            stage: Stage::Ended,
            console: |_, _| {
                (
                    "/do/obligations".into(),
                    "kind=commitment&text=t&owner=o&due_at=2026-03-09T10:00".into(),
                )
            },
            api: |id, _| {
                (
                    format!("/api/v1/incidents/{id}/obligations"),
                    json!({"kind": "commitment", "text": "t", "owner": "o", "due_at": "2026-03-09T10:00:00+08:00"}),
                )
            },
        },
        Action {
            name: "fulfil",
            stage: Stage::EndedOwing,
            console: |_, o| ("/do/fulfil".into(), format!("obligation={}", o.unwrap())),
            api: |id, o| {
                (
                    format!("/api/v1/incidents/{id}/obligations/{}/fulfil", o.unwrap()),
                    json!({}),
                )
            },
        },
    ]
}

/// Whether the room page of incident `id`, as this viewer sees it, offers the form at `path`.
fn offers(html: &str, id: &str, path: &str) -> bool {
    html.contains(&format!("action=\"/incidents/{id}{path}\""))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_room_offers_exactly_what_the_api_accepts() {
    let app = TestApp::sqlite().await;
    let mut sessions = Vec::new();
    for who in IDENTITIES {
        sessions.push((*who, console_session(&app, who).await));
    }
    let mut rows = Vec::new();
    let mut accepted_somewhere = std::collections::BTreeSet::new();
    for a in actions() {
        for (who, cookie) in &sessions {
            // What the console offers this person, on a fresh record.
            let (id, part) = incident(&app, a.stage).await;
            let (cpath, fields) = (a.console)(&id, part.as_deref());
            let (status, html) =
                page(&app, Method::GET, &format!("/incidents/{id}"), cookie, None).await;
            let offered = status == StatusCode::OK && offers(&html, &id, &cpath);
            // What the API does with the same request from the same person.
            let (apath, body) = (a.api)(&id, part.as_deref());
            let (api_status, api_body) = app.post(&apath, who, body).await;
            let accepted = api_status.is_success();
            if accepted {
                accepted_somewhere.insert(a.name);
            }
            assert_eq!(
                offered,
                accepted,
                "{}: the console {} it to {who}, the API answered {api_status} {api_body}",
                a.name,
                if offered { "offers" } else { "does not offer" }
            );
            if !accepted {
                // A forged form post, with the session's own CSRF token, is refused as the
                // API refused it (on another fresh record: the API call changed nothing, but
                // be sure).
                let (id2, part2) = incident(&app, a.stage).await;
                let (cpath2, fields2) = (a.console)(&id2, part2.as_deref());
                let csrf = if status == StatusCode::OK {
                    csrf_of(&html)
                } else {
                    let (_, desk) = page(&app, Method::GET, "/", cookie, None).await;
                    csrf_of(&desk)
                };
                let form = if fields2.is_empty() {
                    format!("csrf={csrf}")
                } else {
                    format!("csrf={csrf}&{fields2}")
                };
                let (forged, _) = page(
                    &app,
                    Method::POST,
                    &format!("/incidents/{id2}{cpath2}"),
                    cookie,
                    Some(form),
                )
                .await;
                assert_eq!(
                    forged, api_status,
                    "{}: a forged console post by {who} got {forged}, the API {api_status} {api_body}",
                    a.name
                );
            }
            let _ = fields;
            rows.push((a.name, *who, offered));
        }
    }
    // The table is not vacuous: every action is accepted from someone.
    for a in actions() {
        assert!(
            accepted_somewhere.contains(a.name),
            "{} was accepted from no one",
            a.name
        );
    }
    assert!(rows.iter().any(|r| !r.2), "someone is refused something");
}
