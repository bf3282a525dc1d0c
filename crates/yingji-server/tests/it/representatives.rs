//! Representatives of a gathering (issue 23 item 3; 002-K11): recorded on the incident with a
//! name, a contact for the reply and what they speak for — nothing else; the name shown to
//! those who may update the incident and masked for others; the contact masked for all and
//! revealed only with a logged reason; both sealed with the incident's key in the database
//! files, and unreadable once `yingji purge` destroys it.

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::console::{csrf_of, req, sign_in};
use crate::harness::{TestApp, report_body};
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const AUDITOR: &str = "demo-auditor";

const NAME: &str = "测试代表欧阳晓岚";
const PHONE: &str = "13911112468";

fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn holds(bytes: &[u8], s: &str) -> bool {
    bytes.windows(s.len()).any(|w| w == s.as_bytes())
}

async fn fetch(app: &TestApp, path: &str) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {DUTY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let s = resp.status();
    (
        s,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

async fn incident(app: &TestApp) -> String {
    let (s, inc) = app
        .post("/api/v1/incidents", DUTY, report_body(app, 60).await)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    inc["id"].as_str().unwrap().to_string()
}

on_both! {
    representatives_are_recorded_sealed_masked_and_revealed_with_a_reason => |app: TestApp| async move {
        let iid = incident(&app).await;
        let path = format!("/api/v1/incidents/{iid}/representatives");
        let (s, r1) = app.post(&path, DUTY, json!({"name": NAME, "contact": PHONE, "speaks_for": "三组被拖欠工资的四十名工人"})).await;
        assert_eq!(s, StatusCode::CREATED, "{r1}");
        assert_eq!(r1["ordinal"], 1);
        assert_ne!(r1["name"], NAME, "the answer (which may be stored) masks the name: {r1}");
        assert!(!r1.to_string().contains(PHONE), "{r1}");
        for (n, name) in [(2, "测试代表甲"), (3, "测试代表乙")] {
            let (s, r) = app.post(&path, DUTY, json!({"name": name})).await;
            assert_eq!((s, r["ordinal"].clone()), (StatusCode::CREATED, json!(n)), "{r}");
        }
        // Those who may update the incident see the names; the contact is masked for them.
        let (s, list) = app.get(&path, DUTY).await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let first = &list[0];
        assert_eq!((first["name"].clone(), first["name_shown"].clone()), (json!(NAME), json!(true)), "{first}");
        assert_eq!(first["contact"], "139****2468");
        assert_eq!(first["speaks_for"], "三组被拖欠工资的四十名工人");
        assert_eq!(list.as_array().unwrap().len(), 3);
        // Someone who may only look (the auditor) sees the names masked.
        let (s, seen) = app.get(&path, AUDITOR).await;
        assert_eq!(s, StatusCode::OK, "{seen}");
        assert_eq!(seen[0]["name_shown"], false);
        assert!(!seen.to_string().contains(NAME) && !seen.to_string().contains(PHONE), "{seen}");
        assert!(seen[0]["name"].as_str().unwrap().starts_with('测'), "{seen}");

        // Nothing beyond a name, a contact and what they speak for; nothing out of scope.
        let before = app.event_count().await;
        let (s, v) = app.post(&path, DUTY, json!({"name": "测试代表丙", "id_number": "110101199001011234"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_request")), "{v}");
        let (s, v) = app.post(&path, DUTY, json!({"name": "测试代表丙", "speaks_for": "安排人员跟踪其行踪"})).await;
        assert_eq!((s, v["error"]["code"].clone(), v["error"]["details"]["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_field"), json!("speaks_for")), "{v}");
        let (s, v) = app.post(&path, DUTY, json!({"name": "  "})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("missing_field")), "{v}");
        let (s, _) = app.post(&path, AUDITOR, json!({"name": "测试代表丙"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.post(&format!("/api/v1/incidents/{}/representatives", Uuid::now_v7()), DUTY, json!({"name": "测试代表丙"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(app.event_count().await, before, "nothing written");

        // The contact in full: only with reveal_personal_data, and the read is logged.
        let rid = first["id"].as_str().unwrap();
        let reveal = format!("{path}/{rid}/reveal");
        let (s, _) = app.post(&reveal, DUTY, json!({"field": "contact", "reason": "电话告知答复时间"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, v) = app.post(&reveal, COMMANDER, json!({"field": "contact", "reason": " "})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason_required")), "a reason is required: {v}");
        let (s, v) = app.post(&reveal, COMMANDER, json!({"field": "contact", "reason": "电话告知答复时间"})).await;
        assert_eq!((s, v["value"].clone()), (StatusCode::OK, json!(PHONE)), "{v}");
        let (_, log) = app.get("/api/v1/audit/disclosures", "demo-province-admin").await;
        let log = log.to_string();
        assert!(log.contains("representatives[1].contact") && log.contains("电话告知答复时间"), "{log}");
        assert!(!log.contains(PHONE), "the log never holds the value");

        // Withdrawn once.
        let (s, w) = app.post(&format!("{path}/{rid}/withdraw"), DUTY, json!({"reason": "群众另行推选代表"})).await;
        assert_eq!(s, StatusCode::OK, "{w}");
        assert!(w["withdrawn_at"].is_string());
        let (s, w) = app.post(&format!("{path}/{rid}/withdraw"), DUTY, json!({"reason": "群众另行推选代表"})).await;
        assert_eq!((s, w["error"]["code"].clone()), (StatusCode::CONFLICT, json!("illegal_transition")));

        // Sealed with the incident's key: in no row or event in clear.
        let key = app.state.store.subject_key("incident", iid.parse().unwrap()).await.unwrap().expect("the incident's key");
        let events = app.state.store.stream_events(rid.parse().unwrap()).await.unwrap();
        assert!(events[0].envelope.payload.contains(&format!("subject1:{}:", key.id)), "{}", events[0].envelope.payload);
        let backup = std::env::temp_dir().join(format!("yingji-reps-{}.jsonl", Uuid::now_v7().simple()));
        app.state.store.backup(&backup).await.unwrap();
        let bytes = std::fs::read(&backup).unwrap();
        assert!(!holds(&bytes, NAME) && !holds(&bytes, PHONE), "the backup holds a representative in clear");
        if let Some(dir) = app.data_dir() {
            for e in std::fs::read_dir(&dir).unwrap().flatten() {
                if let Ok(b) = std::fs::read(e.path()) {
                    assert!(!holds(&b, NAME) && !holds(&b, PHONE), "{} holds a representative in clear", e.path().display());
                }
            }
        }

        // A personal file on the incident (the representatives' written demands) is sealed
        // with the same key.
        let letter = format!("联名诉求书\n代表：{NAME}\n").into_bytes();
        let (s, a, _) = app.send(axum::http::Method::POST,
            &format!("/api/v1/attachments?subject_kind=incident&subject_id={iid}&file_name=letter.txt&personal=true"),
            Some(DUTY), Some(axum::body::Body::from(letter.clone())), &[("content-type", "application/octet-stream")]).await;
        assert_eq!(s, StatusCode::CREATED, "{a}");
        let file = format!("/api/v1/attachments/{}", a["id"].as_str().unwrap());
        let (s, got) = fetch(&app, &file).await;
        assert_eq!((s, got), (StatusCode::OK, letter));

        // Closed, then purged: the key is gone, and the names with it.
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/unfounded"), DUTY, json!({"reason": "经核实，已现场答复并散去"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.post(&path, DUTY, json!({"name": "测试代表丁"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("illegal_transition")), "{v}");
        let cutoff = {
            use yingji_domain::clock::Clock;
            app.clock.now().checked_add(jiff::SignedDuration::from_secs(1)).unwrap()
        };
        let (report, _) = yingji_app::cases::purge(
            &app.state,
            &yingji_app::Actor::system(),
            &yingji_app::cases::PurgePetitioners { cutoff, retention_days: None, dry_run: false },
        ).await.unwrap();
        assert_eq!(report.incidents, 1, "{report:?}");
        let (s, list) = app.get(&path, DUTY).await;
        assert_eq!(s, StatusCode::OK);
        assert!(list.as_array().unwrap().iter().all(|r| r["erased"] == true && r["name"] == ""), "{list}");
        assert!(list[0]["contact"].is_null());
        let (s, v) = app.post(&reveal, COMMANDER, json!({"field": "name", "reason": "核对答复对象"})).await;
        assert_eq!((s, v["value"].clone(), v["erased"].clone()), (StatusCode::OK, json!(null), json!(true)), "{v}");
        // The file too: no one can open it any more, and the answer says so.
        let (s, body) = fetch(&app, &file).await;
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::GONE, json!("attachment_erased")), "{v}");
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty(), "{:?}", report.broken);
        let _ = std::fs::remove_file(&backup);
    };

    the_room_offers_representatives_to_those_who_may => |app: TestApp| async move {
        let iid = incident(&app).await;
        let room = format!("/incidents/{iid}");
        // The duty officer records one from the room.
        let duty = sign_in(&app, DUTY).await;
        let page = req(&app, "GET", &room, &duty, None).await;
        assert!(page.body.contains("id=\"representative-new\""), "the form is offered");
        assert!(!page.body.contains("data-action=\"representative-reveal\""));
        let csrf = csrf_of(&page.body);
        let form = format!("csrf={csrf}&name={}&contact={PHONE}&speaks_for={}", urlenc(NAME), urlenc("五组村民"));
        let r = req(&app, "POST", &format!("{room}/representatives"), &duty, Some(&form)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = req(&app, "GET", &room, &duty, None).await;
        assert!(page.body.contains(NAME) && page.body.contains("139****2468") && !page.body.contains(PHONE), "shown, the contact masked");
        // A forged form without the page's token is refused.
        let r = req(&app, "POST", &format!("{room}/representatives"), &duty, Some(&format!("name={}", urlenc("测试代表戊")))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // The auditor sees the name masked and is offered no form.
        let auditor = sign_in(&app, AUDITOR).await;
        let page = req(&app, "GET", &room, &auditor, None).await;
        assert!(page.body.contains("id=\"representatives\""));
        assert!(!page.body.contains(NAME) && !page.body.contains("id=\"representative-new\""));
        // The commander may reveal the contact, with a reason, on its own page.
        let commander = sign_in(&app, COMMANDER).await;
        let page = req(&app, "GET", &room, &commander, None).await;
        assert!(page.body.contains("data-action=\"representative-reveal\""));
        let (_, list) = app.get(&format!("/api/v1/incidents/{iid}/representatives"), DUTY).await;
        let rid = list[0]["id"].as_str().unwrap();
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", &format!("{room}/representatives/{rid}/reveal"), &commander, Some(&format!("csrf={csrf}&reason={}", urlenc("电话约定对话时间")))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.contains(&format!("href=\"tel:{PHONE}\"")) && r.body.contains(NAME), "{}", r.body);
        let (_, log) = app.get("/api/v1/audit/disclosures", "demo-province-admin").await;
        assert!(log.to_string().contains("电话约定对话时间"), "{log}");
    };
}
