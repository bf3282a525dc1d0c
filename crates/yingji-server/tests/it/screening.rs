//! Dispute screening and scheduled reports on the command path: every write reaches live
//! subscribers in scope (and only them), replays answer as the first answer did, the OpenAPI
//! document names the answers' schemas, and the demo's screening data is written through the
//! commands as the demo's people.

use axum::http::{Method, StatusCode};
use serde_json::json;
use yingji_app::Change;

use crate::harness::TestApp;
use crate::on_both;

/// Everything committed since `rx` was opened (up to now).
fn drain(rx: &mut tokio::sync::broadcast::Receiver<Change>) -> Vec<Change> {
    let mut out = Vec::new();
    while let Ok(c) = rx.try_recv() {
        out.push(c);
    }
    out
}

async fn actor(app: &TestApp, token: &str) -> yingji_app::Actor {
    yingji_app::Actor::from_token(&app.state, token)
        .await
        .unwrap()
        .unwrap()
}

/// A village under 青石镇 with a secretary who owes the township plan's daily report and may
/// submit it. Answers the secretary's token.
async fn village_with_secretary(app: &TestApp) -> String {
    let town = app.jurisdiction("青石镇").await;
    let admin = "demo-province-admin";
    let (s, j) = app
        .post(
            "/api/v1/jurisdictions",
            admin,
            json!({"parent_id": town, "name": "测试丁村", "kind": "village"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{j}");
    let token = "test-village-secretary-live";
    let (s, p) = app
        .post(
            "/api/v1/people",
            admin,
            json!({"jurisdiction_id": j["id"], "name": "村书记丁", "token": token}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, h) = app
        .post(
            &format!(
                "/api/v1/jurisdictions/{}/holders",
                j["id"].as_str().unwrap()
            ),
            admin,
            json!({"post_id": "village-secretaries", "person_id": p["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    let (s, g) = app
        .post(
            &format!("/api/v1/people/{}/grants/add", p["id"].as_str().unwrap()),
            admin,
            json!({"role": "group_member", "jurisdiction_id": j["id"]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{g}");
    token.to_string()
}

on_both! {
    screening_and_report_writes_reach_live_pages_in_scope => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let village = app.jurisdiction("枫林村").await;
        let secretary = village_with_secretary(&app).await;
        let mut rx = app.state.subscribe();
        let mut all: Vec<Change> = Vec::new();
        let check = |changes: Vec<Change>, want: &str, all: &mut Vec<Change>| {
            assert!(changes.iter().any(|c| c.stream_kind == want), "no {want} change in {changes:?}");
            all.extend(changes);
        };
        let (s, r) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town})).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        check(drain(&mut rx), "screening_round", &mut all);
        let rid = r["id"].as_str().unwrap();
        let (s, v) = app.post(&format!("/api/v1/disputes/rounds/{rid}/submissions"), "demo-town-duty", json!({"unit_id": village, "nil": true})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        check(drain(&mut rx), "screening_round", &mut all);
        let (s, d) = app.post("/api/v1/disputes", "demo-town-duty", json!({
            "jurisdiction_id": village, "round_id": rid, "title": "测试：排水沟纠纷",
            "parties": [{"name": "甲户", "role": "申请方"}], "nature": "邻里", "area": "枫林村二组", "risk": "major",
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        check(drain(&mut rx), "dispute", &mut all);
        let did = d["id"].as_str().unwrap();
        for (action, body) in [
            ("assign", json!({"unit": "青石镇司法所"})),
            ("report-upward", json!({"reason": "重大疑难"})),
            ("result", json!({"resolved": true, "result": "达成协议"})),
            ("follow-up", json!({"note": "已回访"})),
            ("close", json!({})),
        ] {
            let (s, v) = app.post(&format!("/api/v1/disputes/{did}/{action}"), "demo-town-duty", body).await;
            assert_eq!(s, StatusCode::OK, "{action}: {v}");
            check(drain(&mut rx), "dispute", &mut all);
        }
        // 12 August 2026, 14:00 in Shanghai, inside the township plan's special period.
        app.clock.set("2026-08-12T06:00:00Z".parse().unwrap());
        let (s, v) = app.post("/api/v1/reports/submissions", &secretary, json!({
            "plan_id": "township-special-period", "schedule_id": "daily-report",
            "due_at": "2026-08-12T07:00:00Z", "nil": true,
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        check(drain(&mut rx), "report", &mut all);
        // The day before nobody reported: the ticker's reminders are changes too.
        assert!(yingji_server::tick(&app.state).await.unwrap() > 0);
        check(drain(&mut rx), "report_reminder", &mut all);
        // (The same tick marks what fell due in the demo's county incidents and cases
        // meanwhile.)
        all.retain(|c| c.stream_kind != "incident" && c.stream_kind != "case");

        // The township's duty officer sees every one of them; a sibling street's sees none.
        let town_duty = actor(&app, "demo-town-duty").await;
        let street_duty = actor(&app, "demo-street-duty").await;
        // (Two report reminders: this village's and the demo's 枫林村, whose secretary owes the
        // same report.)
        assert_eq!(all.len(), 11, "{all:?}");
        for c in &all {
            assert!(town_duty.sees(&c.jurisdiction_path), "{c:?}");
            assert!(!street_duty.sees(&c.jurisdiction_path), "{c:?}");
        }
    };

    a_replayed_return_answers_the_round_as_the_first_answer_did => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let village = app.jurisdiction("枫林村").await;
        let (_, r) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town})).await;
        let path = format!("/api/v1/disputes/rounds/{}/submissions", r["id"].as_str().unwrap());
        let body = json!({"unit_id": village, "disputes_found": 2, "note": "两起"});
        let (s, first, h) = app.post_with_key(&path, "demo-town-duty", body.clone(), "return-1").await;
        assert_eq!(s, StatusCode::CREATED, "{first}");
        assert!(h.get("idempotent-replayed").is_none());
        assert_eq!((first["missing"].clone(), first["units"][0]["state"].clone()), (json!(0), json!("submitted")));
        assert_eq!(first["units"][0]["disputes_found"], 2);
        let (s, again, h) = app.post_with_key(&path, "demo-town-duty", body.clone(), "return-1").await;
        assert_eq!((s, &again), (StatusCode::CREATED, &first));
        assert_eq!(h.get("idempotent-replayed").unwrap(), "true");
        // The answer is the round as stored.
        let (_, view) = app.get(&format!("/api/v1/disputes/rounds/{}", r["id"].as_str().unwrap()), "demo-town-duty").await;
        assert_eq!(view, first);
        // Without the key, a second return of the same unit is refused, naming it.
        let (s, v) = app.post(&path, "demo-town-duty", body).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("already_submitted")));
        assert!(v["error"]["message"].as_str().unwrap().contains("枫林村"), "{v}");
        // A round that exists names itself.
        let (s, v) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town})).await;
        assert_eq!((s, v["error"]["details"]["id"].clone()), (StatusCode::CONFLICT, r["id"].clone()));
        // An invalid deadline names its field.
        let (_, d) = app.post("/api/v1/disputes", "demo-town-duty", json!({
            "jurisdiction_id": village, "title": "测试", "parties": [{"name": "甲", "role": "一方"}],
            "nature": "邻里", "area": "二组", "risk": "low",
        })).await;
        let (s, v) = app.post(&format!("/api/v1/disputes/{}/assign", d["id"].as_str().unwrap()), "demo-town-duty", json!({"unit": "司法所", "due_on": "3月20日"})).await;
        assert_eq!((s, v["error"]["code"].clone(), v["error"]["details"]["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_field"), json!("due_on")));
    };

    the_openapi_document_names_the_screening_and_report_schemas => |app: TestApp| async move {
        let (s, v, _) = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        let schema_of = |path: &str, method: &str, status: &str| -> String {
            v["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} {status} has no schema"))
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        };
        for (path, method, status, schema) in [
            ("/api/v1/disputes/rounds", "post", "201", "RoundOpened"),
            ("/api/v1/disputes/rounds/{id}", "get", "200", "RoundView"),
            ("/api/v1/disputes/rounds/{id}/submissions", "post", "201", "RoundView"),
            ("/api/v1/disputes", "post", "201", "Dispute"),
            ("/api/v1/disputes", "get", "200", "DisputeList"),
            ("/api/v1/disputes/{id}", "get", "200", "Dispute"),
            ("/api/v1/disputes/{id}/{action}", "post", "200", "Dispute"),
            ("/api/v1/reports/board", "get", "200", "Board"),
            ("/api/v1/reports/submissions", "post", "201", "ReportSubmitted"),
        ] {
            assert_eq!(schema_of(path, method, status), schema, "{method} {path}");
            assert!(v["components"]["schemas"][schema].is_object(), "{schema} is registered");
        }
        for (path, method) in [
            ("/api/v1/disputes/rounds", "post"),
            ("/api/v1/disputes/rounds/{id}/submissions", "post"),
            ("/api/v1/disputes", "post"),
            ("/api/v1/disputes/{id}/{action}", "post"),
            ("/api/v1/reports/submissions", "post"),
        ] {
            let r = &v["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            let name = r.as_str().unwrap_or_else(|| panic!("{method} {path} has no request schema"));
            let name = name.rsplit('/').next().unwrap();
            assert!(v["components"]["schemas"][name].is_object(), "{name} is registered");
        }
        // Nested types are registered too.
        for name in ["UnitReturn", "ReturnState", "Party", "Risk", "DisputeStatus", "BoardRow", "BoardState"] {
            assert!(v["components"]["schemas"][name].is_object(), "{name} is registered");
        }
    };

    the_demo_screens_through_the_commands_as_its_people => |app: TestApp| async move {
        let mut rx = app.state.subscribe();
        yingji_server::demo::load_demo_extras(&app.state).await.unwrap();
        let changes = drain(&mut rx);
        for kind in ["screening_round", "dispute"] {
            assert!(changes.iter().any(|c| c.stream_kind == kind), "no {kind} change: {changes:?}");
        }
        // The round of 临溪市 with 青石镇's return, and the dispute it found.
        let (_, list) = app.get("/api/v1/disputes", "demo-duty-officer").await;
        let d = list["items"].as_array().unwrap().iter().find(|d| d["title"] == "示例：枫林村土地流转租金纠纷").cloned().unwrap();
        let rid = d["round_id"].as_str().unwrap().to_string();
        let (s, round) = app.get(&format!("/api/v1/disputes/rounds/{rid}"), "demo-duty-officer").await;
        assert_eq!(s, StatusCode::OK, "{round}");
        let town = round["units"].as_array().unwrap().iter().find(|u| u["unit_name"] == "青石镇").cloned().unwrap();
        assert_eq!((town["state"].clone(), town["disputes_found"].clone()), (json!("submitted"), json!(1)));
        // Each event names the demo person who acted, not the system.
        let events = app.state.store.stream_events(rid.parse().unwrap()).await.unwrap();
        let who: Vec<&str> = events.iter().map(|e| e.envelope.actor_name.as_str()).collect();
        assert_eq!(events.len(), 2);
        assert!(who.iter().all(|n| *n != "yingji"), "{who:?}");
        assert_ne!(who[0], who[1], "the county opened the round, the township returned");
    };
}
