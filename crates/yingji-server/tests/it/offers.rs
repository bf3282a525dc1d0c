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
    console_session_via(&app.router, token).await
}

/// [`console_session`] through a given router (one whose trust settings differ).
pub async fn console_session_via(router: &axum::Router, token: &str) -> String {
    console_sign_in_cookies(router, token)
        .await
        .into_iter()
        .find(|c| c.starts_with("yingji_session="))
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Every `Set-Cookie` of a token sign-in on the console's form of `router`.
pub async fn console_sign_in_cookies(router: &axum::Router, token: &str) -> Vec<String> {
    let resp = router
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
    let r = router
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
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
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
    /// Active; the part is 林建国's person id (the approver of the level's coercive steps).
    CoerciveApprover,
    /// Active with a `dispersal` request by the 政法委书记 naming 林建国; the part is its id.
    CoercivePending,
    RegradePending,
    /// Active; the part is the first report owed upward (首报 to 市委、市政府, by the office,
    /// under level Ⅱ commanded by the 政法委书记).
    UpwardReport,
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
        Stage::UpwardReport => {
            return (
                id,
                active["upward_reports"][0]["id"]
                    .as_str()
                    .map(str::to_string),
            );
        }
        Stage::CoerciveApprover => return (id, Some(app.person("林建国").await)),
        Stage::CoercivePending => {
            let lin = app.person("林建国").await;
            let v = ok(
                app,
                &at("coercive-steps"),
                "demo-plac-secretary",
                json!({"step": "dispersal", "approver_id": lin, "reason": "堵塞交通"}),
            )
            .await;
            return (
                id,
                v["coercive_steps"][0]["id"].as_str().map(str::to_string),
            );
        }
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
            console: |_, _| ("/do/activate".into(), "confirm=yes".into()),
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
            name: "coercive-steps",
            stage: Stage::CoerciveApprover,
            console: |_, lin| {
                (
                    "/do/coercive-steps".into(),
                    format!("step=dispersal&approver_id={}&reason=x", lin.unwrap()),
                )
            },
            api: |id, lin| {
                (
                    format!("/api/v1/incidents/{id}/coercive-steps"),
                    json!({"step": "dispersal", "approver_id": lin.unwrap(), "reason": "x"}),
                )
            },
        },
        Action {
            name: "consultations",
            stage: Stage::Active,
            console: |_, _| {
                (
                    "/do/consultations".into(),
                    "step=police&participants=a&conclusion=b".into(),
                )
            },
            api: |id, _| {
                (
                    format!("/api/v1/incidents/{id}/consultations"),
                    json!({"step": "police", "participants": ["a"], "conclusion": "b"}),
                )
            },
        },
        Action {
            name: "coercive-approve",
            stage: Stage::CoercivePending,
            console: |_, r| {
                (
                    "/do/coercive-approve".into(),
                    format!("request={}", r.unwrap()),
                )
            },
            api: |id, r| {
                (
                    format!(
                        "/api/v1/incidents/{id}/coercive-steps/{}/approve",
                        r.unwrap()
                    ),
                    json!({}),
                )
            },
        },
        Action {
            name: "coercive-refuse",
            stage: Stage::CoercivePending,
            console: |_, r| {
                (
                    "/do/coercive-refuse".into(),
                    format!("request={}&reason=x", r.unwrap()),
                )
            },
            api: |id, r| {
                (
                    format!(
                        "/api/v1/incidents/{id}/coercive-steps/{}/refuse",
                        r.unwrap()
                    ),
                    json!({"reason": "x"}),
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
            name: "upward-report",
            stage: Stage::UpwardReport,
            console: |_, r| {
                (
                    "/do/upward-report".into(),
                    format!("report={}&text=x", r.unwrap()),
                )
            },
            api: |id, r| {
                (
                    format!(
                        "/api/v1/incidents/{id}/upward-reports/{}/submit",
                        r.unwrap()
                    ),
                    json!({"text": "x"}),
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

/// The nav entries of a console page (the hrefs inside the `<nav>` of the layout).
fn nav_of(html: &str) -> Vec<String> {
    let Some(start) = html.find("<nav aria-label=") else {
        return Vec::new();
    };
    let end = html[start..]
        .find("</nav>")
        .map_or(html.len(), |e| start + e);
    html[start..end]
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Every person sees in the nav exactly the pages they may open; a page they may not open is
/// refused as the API refuses its read; and the report form is offered exactly to the people
/// whose report the API records (the console once recorded reports from anyone signed in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nav_offers_exactly_the_pages_each_person_may_use() {
    let app = TestApp::sqlite().await;
    let mut reporters = 0;
    let mut non_reporters = 0;
    for who in IDENTITIES {
        let cookie = console_session(&app, who).await;
        let (s, desk) = page(&app, Method::GET, "/", &cookie, None).await;
        assert_eq!(s, StatusCode::OK, "the desk of {who}");
        let nav = nav_of(&desk);
        assert!(nav.iter().any(|h| h == "/"), "{who}'s nav has the desk");
        for href in ["/report", "/cases", "/disputes", "/roster", "/plans"] {
            let (status, _) = page(&app, Method::GET, href, &cookie, None).await;
            let shown = nav.iter().any(|h| h == href);
            assert_eq!(
                shown,
                status == StatusCode::OK,
                "{href}: the nav {} it to {who}, the page answered {status}",
                if shown { "shows" } else { "does not show" }
            );
            if !shown {
                assert_eq!(status, StatusCode::FORBIDDEN, "{href} for {who}");
            }
        }
        // The API's answer to the same person's report, in their own jurisdiction.
        let (_, me) = app.get("/api/v1/me", who).await;
        let mut body = report_body(&app, 30).await;
        body["jurisdiction_id"] = me["jurisdiction"]["id"].clone();
        let (api, v) = app.post("/api/v1/incidents", who, body).await;
        // (Another plan may apply there: only the permission is compared, not the body.)
        let offered = nav.iter().any(|h| h == "/report");
        assert_eq!(
            offered,
            api != StatusCode::FORBIDDEN,
            "the report form: the console {} it to {who}, the API answered {api} {v}",
            if offered { "offers" } else { "does not offer" }
        );
        if offered {
            reporters += 1;
        } else {
            non_reporters += 1;
            // A forged submission of the form is refused as the API refused it.
            let form = format!(
                "csrf={}&step=confirm&plan=linxiang-city-mass-petition&jurisdiction={}&headcount=600&title=x&f.unit=x&f.address=x&f.time=x&f.demands=x",
                csrf_of(&desk),
                me["jurisdiction"]["id"].as_str().unwrap_or_default()
            );
            let (forged, _) = page(&app, Method::POST, "/report", &cookie, Some(form)).await;
            assert_eq!(forged, api, "a forged report by {who}");
        }
    }
    assert!(
        reporters > 0 && non_reporters > 0,
        "{reporters} / {non_reporters}"
    );
}

/// The state a case must be in for an action.
#[derive(Debug, Clone, Copy)]
enum CaseStage {
    Registered,
    Proposed,
    Approved,
    Routed,
    ExtensionAsked,
    Replied,
}

/// A fresh case in `stage`, moved there by the people whose job it is (the clerk registers and
/// works it; the deputy and the secretary-general sign the proposal).
async fn case_in(app: &TestApp, stage: CaseStage) -> String {
    let body = json!({
        "jurisdiction_id": app.jurisdiction("临溪市").await,
        "channel": "letter",
        "petitioners": [{ "name": "测试来信人", "contact": "13800000000" }],
        "title": "测试：反映小区停车位被占用",
        "grievance": "要求物业公司清理占用的停车位",
    });
    let c = ok(app, "/api/v1/cases", "demo-petition-clerk", body).await;
    let id = c["id"].as_str().unwrap().to_string();
    let at = |a: &str| format!("/api/v1/cases/{id}/{a}");
    if matches!(stage, CaseStage::Registered) {
        return id;
    }
    ok(
        app,
        &at("propose"),
        "demo-petition-clerk",
        json!({"text": "拟交市住建局办理"}),
    )
    .await;
    if matches!(stage, CaseStage::Proposed) {
        return id;
    }
    ok(app, &at("approve"), "demo-commander", json!({})).await;
    ok(app, &at("approve"), "demo-secretary-general", json!({})).await;
    if matches!(stage, CaseStage::Approved) {
        return id;
    }
    ok(
        app,
        &at("route"),
        "demo-petition-clerk",
        json!({"kind": "assign", "target": "临溪市住建局"}),
    )
    .await;
    match stage {
        CaseStage::Routed => id,
        CaseStage::ExtensionAsked => {
            ok(
                app,
                &at("extension-request"),
                "demo-petition-clerk",
                json!({"days": 10, "reason": "需补充材料"}),
            )
            .await;
            id
        }
        _ => {
            let today = &app.clock_now_plus_days(0)[..10];
            ok(
                app,
                &at("reply"),
                "demo-petition-clerk",
                json!({"date": today, "channel": "书面邮寄", "summary": "已督促清理"}),
            )
            .await;
            id
        }
    }
}

/// Every action of the case page is offered to a person exactly when the API accepts the same
/// action from them, and a forged form gets the API's refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_page_offers_exactly_what_the_api_accepts() {
    let app = TestApp::sqlite().await;
    let today = app.clock_now_plus_days(0)[..10].to_string();
    // (action, stage, form fields, API body)
    let table: Vec<(&str, CaseStage, String, Value)> = vec![
        (
            "classify",
            CaseStage::Registered,
            "category=administrative&topic=%E5%9F%8E%E4%B9%A1%E5%BB%BA%E8%AE%BE".into(),
            json!({"category": "administrative", "topic": "城乡建设"}),
        ),
        (
            "propose",
            CaseStage::Registered,
            "text=x".into(),
            json!({"text": "x"}),
        ),
        ("approve", CaseStage::Proposed, String::new(), json!({})),
        (
            "route",
            CaseStage::Approved,
            "kind=in_house&target=x".into(),
            json!({"kind": "in_house", "target": "x"}),
        ),
        (
            "extension-request",
            CaseStage::Routed,
            "days=1&reason=x".into(),
            json!({"days": 1, "reason": "x"}),
        ),
        (
            "extension-decision",
            CaseStage::ExtensionAsked,
            "approve=no".into(),
            json!({"approve": false}),
        ),
        (
            "reply",
            CaseStage::Routed,
            format!("date={today}&channel=x&summary=x"),
            json!({"date": today, "channel": "x", "summary": "x"}),
        ),
        (
            "follow-up",
            CaseStage::Replied,
            "satisfaction=satisfied".into(),
            json!({"satisfaction": "satisfied"}),
        ),
    ];
    let mut sessions = Vec::new();
    for who in IDENTITIES {
        sessions.push((*who, console_session(&app, who).await));
    }
    let mut accepted_somewhere = std::collections::BTreeSet::new();
    let mut refused = 0;
    for (action, stage, fields, body) in &table {
        for (who, cookie) in &sessions {
            let id = case_in(&app, *stage).await;
            let (status, html) =
                page(&app, Method::GET, &format!("/cases/{id}"), cookie, None).await;
            let offered = status == StatusCode::OK
                && html.contains(&format!("action=\"/cases/{id}/do/{action}\""));
            let (api, v) = app
                .post(&format!("/api/v1/cases/{id}/{action}"), who, body.clone())
                .await;
            if api.is_success() {
                accepted_somewhere.insert(*action);
            }
            assert_eq!(
                offered,
                api.is_success(),
                "{action}: the case page {} it to {who}, the API answered {api} {v}",
                if offered { "offers" } else { "does not offer" }
            );
            if !api.is_success() {
                refused += 1;
                let id2 = case_in(&app, *stage).await;
                let (_, desk) = page(&app, Method::GET, "/", cookie, None).await;
                let form = if fields.is_empty() {
                    format!("csrf={}", csrf_of(&desk))
                } else {
                    format!("csrf={}&{fields}", csrf_of(&desk))
                };
                let (forged, _) = page(
                    &app,
                    Method::POST,
                    &format!("/cases/{id2}/do/{action}"),
                    cookie,
                    Some(form),
                )
                .await;
                assert_eq!(forged, api, "{action}: a forged case form by {who}");
            }
        }
    }
    for (action, ..) in &table {
        assert!(
            accepted_somewhere.contains(action),
            "{action} was accepted from no one"
        );
    }
    assert!(refused > 0);
}

/// The register button of the case list (and the register form) is offered exactly to the
/// people whose registration the API accepts; a forged form gets the API's refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_form_is_offered_exactly_to_who_may_register() {
    let app = TestApp::sqlite().await;
    let (mut yes, mut no) = (0, 0);
    for who in IDENTITIES {
        let cookie = console_session(&app, who).await;
        let (_, list) = page(&app, Method::GET, "/cases", &cookie, None).await;
        let offered = list.contains("id=\"register-case\"");
        let (form_status, _) = page(&app, Method::GET, "/cases/new", &cookie, None).await;
        assert_eq!(
            offered,
            form_status == StatusCode::OK,
            "/cases/new for {who}: {form_status}"
        );
        let (_, me) = app.get("/api/v1/me", who).await;
        let body = json!({
            "jurisdiction_id": me["jurisdiction"]["id"],
            "channel": "letter",
            "petitioners": [{ "name": "测试来信人" }],
            "title": "测试：反映路灯损坏",
            "grievance": "要求修复路灯",
        });
        let (api, v) = app.post("/api/v1/cases", who, body).await;
        assert_eq!(
            offered,
            api != StatusCode::FORBIDDEN,
            "register: the console {} it to {who}, the API answered {api} {v}",
            if offered { "offers" } else { "does not offer" }
        );
        if offered {
            yes += 1;
        } else {
            no += 1;
            let (_, desk) = page(&app, Method::GET, "/", &cookie, None).await;
            let form = format!(
                "csrf={}&channel=letter&names=x&title=x&grievance=x",
                csrf_of(&desk)
            );
            let (forged, _) = page(&app, Method::POST, "/cases/new", &cookie, Some(form)).await;
            assert_eq!(forged, api, "a forged registration by {who}");
        }
    }
    assert!(yes > 0 && no > 0, "{yes} / {no}");
}
