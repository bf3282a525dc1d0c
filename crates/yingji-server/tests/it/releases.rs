//! Information release (WF-13, issue 22): a draft names its approver (never the drafter); only
//! that person approves or sends it back; nothing is published before the approval; once
//! published it is on the public page and in the CAP feed, whose alert is valid CAP 1.2 (checked
//! against the schema with xmllint); every step is an event of the release's stream.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

use crate::harness::TestApp;
use crate::offers::{console_session, page};
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const MEMBER: &str = "demo-group-member";

/// A page or file anyone may read: status, content type, body.
async fn public(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let resp = app
        .router
        .clone()
        .oneshot(axum::http::Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let s = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (s, ct, String::from_utf8_lossy(&body).to_string())
}

/// Validates a CAP alert against the CAP 1.2 schema with xmllint (installed by the test
/// set-up; a failure under CI when missing).
fn valid_cap(xml: &str) {
    let have = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_ok();
    if !have {
        assert!(
            std::env::var("CI").is_err(),
            "xmllint is missing: scripts/test.sh installs it"
        );
        eprintln!("skipped: xmllint is not installed");
        return;
    }
    let file = std::env::temp_dir().join(format!("cap-{}.xml", uuid::Uuid::new_v4()));
    std::fs::write(&file, xml).unwrap();
    let xsd = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/CAP-v1.2.xsd");
    let o = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&file)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(
        o.status.success(),
        "not valid CAP 1.2: {}\n{xml}",
        String::from_utf8_lossy(&o.stderr)
    );
}

async fn stream_kinds(app: &TestApp, id: &str) -> Vec<String> {
    app.state
        .store
        .stream_events(id.parse().unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.envelope.kind)
        .collect()
}

on_both! {
    a_release_is_public_only_after_its_named_approver_approved_it => |app: TestApp| async move {
        let commander = app.person("林建国").await;
        let (_, me) = app.get("/api/v1/me", DUTY).await;
        let duty = me["person_id"].as_str().unwrap().to_string();
        let body = |approver: &str| json!({
            "kind": "warning", "title": "临溪市暴雨蓝色预警",
            "text": "预计今晚有强降雨，请市民减少外出，远离河道<低洼>处。",
            "audience": "临溪市市民", "approver_person_id": approver,
        });
        // The drafter cannot name themself.
        let (s, v) = app.post("/api/v1/releases", DUTY, body(&duty)).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("self_approval")), "{v}");
        let (s, v) = app.post("/api/v1/releases", DUTY, json!({"title": "x", "text": "y", "approver_person_id": commander, "kind": "rumour"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_field")), "{v}");
        let (s, r) = app.post("/api/v1/releases", DUTY, body(&commander)).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        assert_eq!(r["status"], "draft");
        let id = r["id"].as_str().unwrap().to_string();

        // Not public yet; publishing before the approval is refused.
        let (s, v) = app.post(&format!("/api/v1/releases/{id}/publish"), DUTY, json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("not_approved")), "{v}");
        let (s, _, html) = public(&app, "/public/releases").await;
        assert_eq!(s, StatusCode::OK);
        assert!(!html.contains("临溪市暴雨蓝色预警"), "a draft is not public");
        let (s, _, _) = public(&app, &format!("/cap/releases/{id}.xml")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, _, feed) = public(&app, "/cap/feed.atom").await;
        assert!(!feed.contains(&id));

        // Only the named approver decides.
        let (s, v) = app.post(&format!("/api/v1/releases/{id}/approve"), MEMBER, json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("wrong_approver")), "{v}");
        let (s, v) = app.post(&format!("/api/v1/releases/{id}/approve"), DUTY, json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        // The console offers the decision to the approver only.
        let cookie = console_session(&app, COMMANDER).await;
        let (_, html) = page(&app, Method::GET, "/releases", &cookie, None).await;
        assert!(html.contains(&format!("/releases/{id}/do/approve")), "{html}");
        let dcookie = console_session(&app, DUTY).await;
        let (_, html) = page(&app, Method::GET, "/releases", &dcookie, None).await;
        assert!(!html.contains(&format!("/releases/{id}/do/approve")));
        assert!(!html.contains(&format!("/releases/{id}/do/publish")), "not approved: nothing to publish");

        let (s, v) = app.post(&format!("/api/v1/releases/{id}/approve"), COMMANDER, json!({"note": "同意发布"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("approved")), "{v}");
        let (_, _, html) = public(&app, "/public/releases").await;
        assert!(!html.contains("临溪市暴雨蓝色预警"), "approved is not yet published");
        let (_, html) = page(&app, Method::GET, "/releases", &dcookie, None).await;
        assert!(html.contains(&format!("/releases/{id}/do/publish")));
        let (s, v) = app.post(&format!("/api/v1/releases/{id}/publish"), DUTY, json!({})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("published")), "{v}");
        assert!(v["published_at"].is_string());

        // Public now: the page (no sign-in), the feed and the CAP alert.
        let (s, _, html) = public(&app, "/public/releases").await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("临溪市暴雨蓝色预警") && html.contains("远离河道&#60;低洼&#62;处"), "{html}");
        let (s, ct, feed) = public(&app, "/cap/feed.atom").await;
        assert_eq!(s, StatusCode::OK);
        assert!(ct.starts_with("application/atom+xml"), "{ct}");
        assert!(feed.contains(&format!("/cap/releases/{id}.xml")) && feed.contains("临溪市暴雨蓝色预警"), "{feed}");
        let (s, ct, cap) = public(&app, &format!("/cap/releases/{id}.xml")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(ct.starts_with("application/cap+xml"), "{ct}");
        assert!(cap.contains("<language>zh-CN</language>") && cap.contains("<headline>临溪市暴雨蓝色预警</headline>"), "{cap}");
        assert!(cap.contains("<urgency>Expected</urgency>"));
        valid_cap(&cap);
        let (s, v) = app.post(&format!("/api/v1/releases/{id}/publish"), DUTY, json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("illegal_transition")));
        assert_eq!(stream_kinds(&app, &id).await, vec!["release_drafted", "release_approved", "release_published"]);

        // Sent back: a reason is required, and it can never be published.
        let (_, r2) = app.post("/api/v1/releases", DUTY, json!({"title": "停水通知", "text": "明日停水", "approver_person_id": commander})).await;
        let id2 = r2["id"].as_str().unwrap().to_string();
        let (s, v) = app.post(&format!("/api/v1/releases/{id2}/reject"), COMMANDER, json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("missing_field")));
        let (s, v) = app.post(&format!("/api/v1/releases/{id2}/reject"), COMMANDER, json!({"note": "停水范围未写明"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("rejected")), "{v}");
        let (s, _) = app.post(&format!("/api/v1/releases/{id2}/publish"), DUTY, json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (_, _, feed) = public(&app, "/cap/feed.atom").await;
        assert!(!feed.contains(&id2));
        let (s, _) = app.post(&format!("/api/v1/releases/{id2}/dance"), DUTY, json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // The list of the area, and the record holds.
        let (_, list) = app.get("/api/v1/releases", DUTY).await;
        assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
        let (s, _) = app.get(&format!("/api/v1/releases/{id}"), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "out of the street's area");
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty());
    };
}

/// A published release is posted to each release webhook of the configuration (a real local
/// receiver), with its headline, text and the address of its CAP alert; a draft or an approved
/// one is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_release_reaches_the_release_webhook() {
    let (base, got) = crate::notices::http_receiver().await;
    let cfg = yingji_notify::NotifyConfig {
        secret: "s".repeat(40),
        base_url: "https://yingji.example.org".into(),
        release_webhooks: vec![format!("{base}/release-intake")],
        allow_destinations: crate::harness::loopback_allowed(),
        ..Default::default()
    };
    let app = TestApp::sqlite_with_notify(cfg.clone()).await;
    let worker = std::sync::Arc::new(
        yingji_notify::Worker::new(app.state.store.clone(), app.state.clock.clone(), cfg).unwrap(),
    );
    worker.set_opener(app.state.address_opener());
    let deliver = || async {
        for _ in 0..3 {
            worker.run_once().await.unwrap();
        }
    };
    let commander = app.person("林建国").await;
    let (s, r) = app
        .post("/api/v1/releases", DUTY, json!({"title": "临溪大桥封闭通告", "text": "大桥今晚22时起封闭检修", "area": "临溪大桥", "approver_person_id": commander}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let (s, _) = app
        .post(
            &format!("/api/v1/releases/{id}/approve"),
            COMMANDER,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    deliver().await;
    assert!(got.lock().unwrap().is_empty(), "nothing before publication");
    let (s, _) = app
        .post(&format!("/api/v1/releases/{id}/publish"), DUTY, json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    deliver().await;
    let got = got.lock().unwrap().clone();
    let (path, body) = got
        .iter()
        .find(|(p, _)| p == "/release-intake")
        .unwrap_or_else(|| panic!("the release webhook got nothing: {got:?}"))
        .clone();
    assert_eq!(path, "/release-intake");
    let text = body["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("临溪大桥封闭通告") && text.contains("大桥今晚22时起封闭检修"),
        "{body}"
    );
    assert!(
        text.contains(&format!("https://yingji.example.org/cap/releases/{id}.xml")),
        "{body}"
    );
    assert_eq!(got.len(), 1, "one post: {got:?}");
}
