//! The incident loop through the JSON API.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body};
use crate::on_both;

async fn create(app: &TestApp, headcount: u32) -> Value {
    let (s, v) = app
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            report_body(app, headcount).await,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

on_both! {
    full_lifecycle => |app: TestApp| async move {
        let inc = create(&app, 120).await;
        let iid = id(&inc);
        assert_eq!(inc["proposal"]["level"]["id"], "II");
        assert!(inc["proposal"]["rule"].as_str().unwrap().contains("at_least = 100"));
        assert_eq!(inc["status"], "reported");
        let path = |a: &str| format!("/api/v1/incidents/{iid}/{a}");

        let (s, v) = app.post(&path("verify"), "demo-duty-officer", json!({"note": "电话核实"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.post(&path("assess"), "demo-commander", json!({})).await;
        assert_eq!((s, v["level"]["id"].clone()), (StatusCode::OK, json!("II")));
        let (s, v) = app.post(&path("activate"), "demo-commander", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "active");

        // The group member sees the task assigned to them, due 30 minutes after activation
        // (10:00 is daytime).
        let (_, mine) = app.get("/api/v1/tasks?assignee=me&state=open", "demo-group-member").await;
        let task = mine["items"].as_array().unwrap().iter().find(|t| t["incident_id"] == iid.as_str()).expect("task for the group member").clone();
        assert_eq!(task["group"], "order");
        assert!(task["due_at"].as_str().unwrap().starts_with("2026-03-02T02:30:00"), "{task}");

        // Nobody acknowledges for 31 minutes: the ticker marks it overdue, in the timeline.
        app.advance_mins(31);
        assert!(yingji_server::tick(&app.state).await.unwrap() >= 1);
        let (_, tl) = app.get(&path("timeline"), "demo-duty-officer").await;
        assert!(tl["items"].as_array().unwrap().iter().any(|e| e["kind"] == "task_overdue" && e["payload"]["id"] == task["id"]));
        // A second tick at the same time changes nothing.
        let before = app.event_count().await;
        yingji_server::tick(&app.state).await.unwrap();
        assert_eq!(app.event_count().await, before);

        let tid = task["id"].as_str().unwrap();
        let (s, v) = app.post(&format!("/api/v1/tasks/{tid}/acknowledge"), "demo-group-member", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let t = v["tasks"].as_array().unwrap().iter().find(|t| t["id"] == tid).unwrap();
        assert_eq!(t["state"], "acknowledged");
        assert_eq!(t["acknowledged_by"]["name"], "郑国平");
        let (s, v) = app.post(&format!("/api/v1/tasks/{tid}/acknowledge"), "demo-group-member", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("illegal_task_transition")));

        // Grievances and care are recorded; the crowd passes 500 and the plan proposes Ⅰ.
        let (s, v) = app.post(&path("updates"), "demo-duty-officer", json!({"headcount": 520, "grievances": ["要求公开工程款结算"], "care": ["已送饮用水"]})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["regrade"]["to"]["id"], "I");
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/regrade/accept"), "demo-commander", json!({})).await;
        assert_eq!((s, v["level"]["id"].clone()), (StatusCode::OK, json!("I")));

        // Police only with the post the plan names as approver, and a reason; requested by one
        // person (the 政法委书记), approved by the one it names (林建国).
        let wrong = app.person("周敏").await;
        let (s, v) = app.post(&path("coercive-steps"), "demo-plac-secretary", json!({"step": "police", "approver_id": wrong, "reason": "有人冲击大门"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("wrong_approver")));
        let right = app.person("林建国").await;
        let (s, _) = app.post(&path("consultations"), "demo-duty-officer", json!({"step": "police", "participants": ["市信访局"], "conclusion": "报请调集警力"})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app.post(&path("coercive-steps"), "demo-plac-secretary", json!({"step": "police", "approver_id": right, "reason": "有人冲击大门"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!((v["coercive_steps"][0]["approver"]["name"].clone(), v["coercive_steps"][0]["state"].clone()), (json!("林建国"), json!("pending")));
        let rid = v["coercive_steps"][0]["id"].as_str().unwrap().to_string();
        let (s, v) = app.post(&path(&format!("coercive-steps/{rid}/approve")), "demo-commander", json!({})).await;
        assert_eq!((s, v["coercive_steps"][0]["state"].clone()), (StatusCode::OK, json!("approved")), "{v}");

        app.advance_mins(60);
        let (s, v) = app.post(&path("end"), "demo-commander", json!({"reason": "群众已散去"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = app.post(&path("obligations"), "demo-duty-officer", json!({"kind": "reply", "text": "书面答复上访代表", "owner": "市信访局", "due_at": "2026-01-01T00:00:00+08:00"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("deadline_in_past")));
        let (s, v) = app.post(&path("obligations"), "demo-duty-officer", json!({"kind": "reply", "text": "书面答复上访代表", "owner": "市信访局", "due_at": "2026-03-20T17:00:00+08:00"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let oid = v["obligations"][0]["id"].as_str().unwrap().to_string();
        // The end closed the response's open tasks; the aftermath's duties are tasks now.
        let (_, inc) = app.get(&format!("/api/v1/incidents/{iid}"), "demo-duty-officer").await;
        assert!(inc["tasks"].as_array().unwrap().iter().any(|t| t["aftermath"] == true), "{inc}");
        for t in inc["tasks"].as_array().unwrap() {
            if t["state"] == "open" {
                let (s, v) = app.post(&format!("/api/v1/tasks/{}/done", t["id"].as_str().unwrap()), "demo-duty-officer", json!({})).await;
                assert_eq!(s, StatusCode::OK, "{v}");
            }
        }
        let (s, _) = app.post(&format!("/api/v1/incidents/{iid}/obligations/{oid}/fulfil"), "demo-duty-officer", json!({"channel": "挂号信", "outcome": "已答复"})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app.post(&path("review"), "demo-commander", json!({"summary": "处置及时", "lessons": ["到岗偏慢"], "corrective_actions": [{"title": "完善值班", "owner_post": "township-head", "due_at": "2026-04-01T00:00:00+08:00"}]})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["review"]["measured"]["activate_to_end_s"], 91 * 60);
        let (s, v) = app.post(&path("close"), "demo-commander", json!({})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("closed")));

        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty(), "{:?}", report.broken);
    };

    bad_input_changes_nothing => |app: TestApp| async move {
        let before = app.event_count().await;
        let (s, v, _) = app.send(Method::POST, "/api/v1/incidents", Some("demo-duty-officer"), Some(Body::from("{\"plan_id\": ")), &[("content-type", "application/json")]).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("malformed_json")));
        assert!(v["error"]["details"]["line"].is_number());
        let mut body = report_body(&app, 30).await;
        body["fields"].as_object_mut().unwrap().remove("demands");
        let (s, v) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        assert_eq!((s, v["error"]["code"].clone(), v["error"]["details"]["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("missing_intake_field"), json!("demands")));
        let (s, v) = app.post("/api/v1/incidents/0190e1e4-0000-7000-8000-000000000000/verify", "demo-duty-officer", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
        let (s, v) = app.get("/api/v1/incidents/not-a-uuid", "demo-duty-officer").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_path")));
        let (s, v, _) = app.send(Method::DELETE, "/api/v1/incidents", Some("demo-duty-officer"), None, &[]).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::METHOD_NOT_ALLOWED, json!("method_not_allowed")));
        let big = format!("{{\"title\": \"{}\"}}", "x".repeat(yingji_server::MAX_BODY + 10));
        let (s, v, _) = app.send(Method::POST, "/api/v1/incidents", Some("demo-duty-officer"), Some(Body::from(big)), &[("content-type", "application/json")]).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::PAYLOAD_TOO_LARGE, json!("payload_too_large")));
        let (s, v) = app.post("/api/v1/incidents", "wrong-token", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNAUTHORIZED, json!("unauthenticated")));
        let (s, v) = app.post("/api/v1/incidents", "demo-duty-officer", json!({"unexpected": 1})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_request")));
        assert_eq!(app.event_count().await, before, "a refused request wrote something");

        // An illegal transition is refused and leaves the incident as it was.
        let inc = create(&app, 30).await;
        let (s, v) = app.post(&format!("/api/v1/incidents/{}/end", id(&inc)), "demo-commander", json!({"reason": "x"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("illegal_transition")));
        let (_, now) = app.get(&format!("/api/v1/incidents/{}", id(&inc)), "demo-duty-officer").await;
        assert_eq!(now, inc);
        let (s, v) = app.get("/api/v1/nowhere", "demo-duty-officer").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
    };

    idempotency_key_prevents_duplicates => |app: TestApp| async move {
        let body = report_body(&app, 40).await;
        let (s1, a, _) = app.post_with_key("/api/v1/incidents", "demo-duty-officer", body.clone(), "field-retry-1").await;
        let (s2, b, h) = app.post_with_key("/api/v1/incidents", "demo-duty-officer", body.clone(), "field-retry-1").await;
        assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
        assert_eq!(a["id"], b["id"]);
        assert_eq!(a, b, "a replay answers exactly what the first request answered");
        assert_eq!(h.get("idempotent-replayed").unwrap(), "true");
        assert_eq!(h.get("content-type").unwrap(), "application/json");
        let (_, list) = app.get("/api/v1/incidents?limit=200", "demo-duty-officer").await;
        assert_eq!(list["items"].as_array().unwrap().iter().filter(|i| i["id"] == a["id"]).count(), 1);
        let mut other = body.clone();
        other["headcount"] = json!(41);
        let (s, v, _) = app.post_with_key("/api/v1/incidents", "demo-duty-officer", other, "field-retry-1").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("idempotency_key_reused")));
        // The same key and body on another endpoint is another request: refused, never
        // answered with the first endpoint's response.
        let iid = a["id"].as_str().unwrap();
        let (s, verified, _) = app.post_with_key(&format!("/api/v1/incidents/{iid}/verify"), "demo-duty-officer", json!({}), "step-1").await;
        assert_eq!((s, verified["status"].clone()), (StatusCode::OK, json!("verified")));
        let (s, again, h) = app.post_with_key(&format!("/api/v1/incidents/{iid}/verify"), "demo-duty-officer", json!({}), "step-1").await;
        assert_eq!((s, &again), (StatusCode::OK, &verified));
        assert_eq!(h.get("idempotent-replayed").unwrap(), "true");
        let (s, v, h) = app.post_with_key(&format!("/api/v1/incidents/{iid}/assess"), "demo-duty-officer", json!({}), "step-1").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("idempotency_key_reused")));
        assert!(h.get("idempotent-replayed").is_none());
        let (s, v, _) = app.post_with_key(&format!("/api/v1/incidents/{iid}/assess"), "demo-duty-officer", json!({}), "step-2").await;
        assert_eq!((s, v["level"]["id"].clone()), (StatusCode::OK, json!("IV")));
        // Concurrent retries with one key still give one incident.
        let mut handles = vec![];
        for _ in 0..8 {
            let router = app.router.clone();
            let body = body.to_string();
            handles.push(tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post("/api/v1/incidents").header("authorization", "Bearer demo-duty-officer").header("content-type", "application/json").header("idempotency-key", "burst-7").body(Body::from(body)).unwrap();
                let resp = router.oneshot(req).await.unwrap();
                let s = resp.status();
                let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
                (s, serde_json::from_slice::<Value>(&bytes).unwrap())
            }));
        }
        let mut ids = std::collections::BTreeSet::new();
        for h in handles {
            let (s, v) = h.await.unwrap();
            assert_eq!(s, StatusCode::CREATED, "{v}");
            ids.insert(v["id"].as_str().unwrap().to_string());
        }
        assert_eq!(ids.len(), 1);
    };

    jurisdiction_scope => |app: TestApp| async move {
        let inc = create(&app, 30).await;
        let (s, _) = app.get(&format!("/api/v1/incidents/{}", id(&inc)), "demo-town-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "a township sees nothing of its county's incidents");
        let (s, _) = app.get(&format!("/api/v1/incidents/{}", id(&inc)), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.get(&format!("/api/v1/incidents/{}", id(&inc)), "demo-city-duty").await;
        assert_eq!(s, StatusCode::OK, "the city sees its counties");
        let (_, list) = app.get("/api/v1/incidents", "demo-town-duty").await;
        assert!(list["items"].as_array().unwrap().is_empty());
        let town = app.jurisdiction("青石镇").await;
        let mut body = report_body(&app, 30).await;
        body["jurisdiction_id"] = json!(town);
        let (s, v) = app.post("/api/v1/incidents", "demo-street-duty", body).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")), "a street cannot report for a sibling town");
    };

    escalation_creates_a_linked_record_for_the_parent => |app: TestApp| async move {
        let inc = create(&app, 600).await;
        let iid = id(&inc);
        app.post(&format!("/api/v1/incidents/{iid}/verify"), "demo-duty-officer", json!({})).await;
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/escalate"), "demo-duty-officer", json!({"note": "人数超过五百，报云岭市"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let parent = v["parent_incident"].as_str().unwrap().to_string();
        let (s, p) = app.get(&format!("/api/v1/incidents/{parent}"), "demo-city-duty").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(p["kind"], "escalation");
        assert_eq!(p["source_incident"], iid.as_str());
        assert_eq!(p["jurisdiction_id"], app.jurisdiction("云岭市").await.as_str());
        let (s, _) = app.get(&format!("/api/v1/incidents/{parent}"), "demo-duty-officer").await;
        assert_eq!(s, StatusCode::NOT_FOUND, "the county does not see the city's record");
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/escalate"), "demo-duty-officer", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("already_escalated")));
    };

    lists_filter_and_paginate => |app: TestApp| async move {
        for n in [25, 35, 45] {
            create(&app, n).await;
        }
        let (_, drills) = app.get("/api/v1/incidents?drill=true", "demo-duty-officer").await;
        assert!(drills["items"].as_array().unwrap().iter().all(|i| i["drill"] == true));
        assert_eq!(drills["items"].as_array().unwrap().len(), 1);
        let (_, active) = app.get("/api/v1/incidents?status=active", "demo-duty-officer").await;
        assert!(active["items"].as_array().unwrap().iter().all(|i| i["status"] == "active"));
        let (_, p1) = app.get("/api/v1/incidents?limit=2", "demo-duty-officer").await;
        assert_eq!(p1["items"].as_array().unwrap().len(), 2);
        let next = p1["next"].as_str().unwrap();
        let (_, p2) = app.get(&format!("/api/v1/incidents?limit=2&before={next}"), "demo-duty-officer").await;
        let ids1: Vec<&Value> = p1["items"].as_array().unwrap().iter().map(|i| &i["id"]).collect();
        assert!(p2["items"].as_array().unwrap().iter().all(|i| !ids1.contains(&&i["id"])));
        let (s, v) = app.get("/api/v1/incidents?status=burning", "demo-duty-officer").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_query")));
        let (_, lvl) = app.get("/api/v1/incidents?level=IV", "demo-duty-officer").await;
        assert!(lvl["items"].as_array().unwrap().iter().all(|i| i["level"] == "IV"));
    };

    task_delivery_and_dispute_lists_page_by_cursor => |app: TestApp| async move {
        for n in [120, 130] {
            let id = id(&create(&app, n).await);
            for (a, t) in [("verify", "demo-duty-officer"), ("assess", "demo-commander"), ("activate", "demo-commander")] {
                let (s, v) = app.post(&format!("/api/v1/incidents/{id}/{a}"), t, json!({})).await;
                assert_eq!(s, StatusCode::OK, "{a}: {v}");
            }
        }
        app.state.notify.expand().await.unwrap();
        let village = app.jurisdiction("枫林村").await;
        for k in 0..5 {
            let (s, v) = app.post("/api/v1/disputes", "demo-town-duty", json!({
                "jurisdiction_id": village, "title": format!("测试：水渠纠纷{k}"),
                "parties": [{"name": "甲户", "role": "申请方"}], "nature": "水利", "area": "枫林村", "risk": "low",
            })).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
        // Every list read a few at a time, following `next`, gives what one long page gives,
        // in the same order, and the last page says there is no more.
        for (list, cursor, who) in [
            ("/api/v1/tasks?", "after", "demo-duty-officer"),
            ("/api/v1/tasks?state=open&", "after", "demo-duty-officer"),
            ("/api/v1/deliveries?", "before", "demo-province-admin"),
            ("/api/v1/disputes?", "before", "demo-town-duty"),
        ] {
            let ids = |v: &Value| v["items"].as_array().unwrap().iter().map(|i| i["id"].clone()).collect::<Vec<_>>();
            // Read until two reads agree (nothing is still being written).
            let mut whole = Value::Null;
            for _ in 0..50 {
                let (s, v) = app.get(&format!("{list}limit=200"), who).await;
                assert_eq!(s, StatusCode::OK, "{v}");
                if v == whole {
                    break;
                }
                whole = v;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            assert!(whole["next"].is_null(), "{list}: one page holds them all");
            let whole = ids(&whole);
            assert!(whole.len() > 4, "{list}: {} items", whole.len());
            let (mut got, mut url) = (Vec::new(), format!("{list}limit=3"));
            loop {
                let (s, page) = app.get(&url, who).await;
                assert_eq!(s, StatusCode::OK, "{page}");
                got.extend(ids(&page));
                match page["next"].as_str() {
                    Some(next) => url = format!("{list}limit=3&{cursor}={next}"),
                    None => break,
                }
            }
            assert_eq!(got, whole, "{list}");
            // A cursor that is not one of the list's: a clear error, not an empty page.
            let (s, v) = app.get(&format!("{list}{cursor}=not-an-id"), who).await;
            assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_query")), "{list}");
        }
        for (list, who) in [("/api/v1/tasks?after=", "demo-duty-officer"), ("/api/v1/deliveries?before=", "demo-province-admin")] {
            let (s, v) = app.get(&format!("{list}{}", uuid::Uuid::now_v7()), who).await;
            assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_query")), "{list}");
        }
    };

    plan_upload_is_checked_and_versioned => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let (_, plan) = app.get("/api/v1/plans/linxiang-city-mass-petition", "demo-duty-officer").await;
        assert_eq!(plan["version"], 1);
        let src = plan["source"].as_str().unwrap().to_string();
        let broken = src.replace("groups = [\"order\", \"dialogue\", \"persuasion\", \"logistics\"]", "groups = [\"ghost\"]");
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": broken, "file_name": "linxiang.toml"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("plan_check_failed")));
        let d = v["error"]["details"]["diagnostics"].as_array().unwrap().iter().find(|d| d["severity"] == "error").unwrap();
        assert_eq!(d["code"], "P0103");
        assert!(d["line"].as_u64().unwrap() > 1 && d["column"].as_u64().unwrap() > 1);
        let (s, _) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": src.clone()})).await;
        assert_eq!(s, StatusCode::OK, "an unchanged text is not a new version");
        let inc = create(&app, 30).await;
        assert_eq!(inc["plan_version"], 1);
        let revised = src.replace("within = \"15m\" # example limit\n\n[[levels.reports]]", "within = \"10m\" # example limit\n\n[[levels.reports]]");
        let revised = if revised == src { src.replace("title = \"落实接访场地\"\nwithin = \"1h\"", "title = \"落实接访场地\"\nwithin = \"45m\"") } else { revised };
        assert_ne!(revised, src);
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": revised})).await;
        assert_eq!((s, v["version"].clone()), (StatusCode::CREATED, json!(2)));
        let newer = create(&app, 30).await;
        assert_eq!(newer["plan_version"], 2);
        // The older incident still runs under version 1.
        let (s, v) = app.post(&format!("/api/v1/incidents/{}/verify", id(&inc)), "demo-duty-officer", json!({})).await;
        assert_eq!((s, v["plan_version"].clone()), (StatusCode::OK, json!(1)));
    };

    concurrent_reports_are_all_kept => |app: TestApp| async move {
        let body = report_body(&app, 30).await.to_string();
        let mut handles = vec![];
        for _ in 0..40 {
            let router = app.router.clone();
            let body = body.clone();
            handles.push(tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post("/api/v1/incidents").header("authorization", "Bearer demo-duty-officer").header("content-type", "application/json").body(Body::from(body)).unwrap();
                let resp = router.oneshot(req).await.unwrap();
                let s = resp.status();
                let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
                (s, serde_json::from_slice::<Value>(&bytes).unwrap())
            }));
        }
        let mut ids = vec![];
        for h in handles {
            let (s, v) = h.await.unwrap();
            assert_eq!(s, StatusCode::CREATED, "{v}");
            ids.push(v["id"].as_str().unwrap().to_string());
        }
        for i in ids {
            let (s, _) = app.get(&format!("/api/v1/incidents/{i}"), "demo-duty-officer").await;
            assert_eq!(s, StatusCode::OK);
        }
        assert!(app.state.store.verify(None).await.unwrap().broken.is_empty());
    };

    openapi_document_lists_the_routes => |app: TestApp| async move {
        let (s, v, _) = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(v["openapi"].as_str().unwrap().starts_with("3."));
        for p in ["/api/v1/incidents", "/api/v1/incidents/{id}/{action}", "/api/v1/tasks/{id}/{action}", "/api/v1/plans"] {
            assert!(v["paths"][p].is_object(), "missing {p}");
        }
    };

    drill_flag_follows_every_task => |app: TestApp| async move {
        let mut body = report_body(&app, 60).await;
        body["drill"] = json!(true);
        let (_, inc) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        let iid = id(&inc);
        app.post(&format!("/api/v1/incidents/{iid}/verify"), "demo-duty-officer", json!({})).await;
        app.post(&format!("/api/v1/incidents/{iid}/assess"), "demo-commander", json!({})).await;
        let (_, v) = app.post(&format!("/api/v1/incidents/{iid}/activate"), "demo-commander", json!({})).await;
        assert!(v["tasks"].as_array().unwrap().iter().all(|t| t["drill"] == true));
        let (_, tasks) = app.get("/api/v1/tasks?drill=true", "demo-duty-officer").await;
        assert!(tasks["items"].as_array().unwrap().iter().any(|t| t["incident_id"] == iid.as_str()));
    };
}

/// The Linxiang example's text as stored (version 1), with its `[meta]` id line replaced by
/// `meta`.
async fn linxiang_with(app: &TestApp, meta: &str) -> String {
    let (_, plan) = app
        .get(
            "/api/v1/plans/linxiang-city-mass-petition/versions/1",
            "demo-duty-officer",
        )
        .await;
    let src = plan["source"].as_str().unwrap().to_string();
    let line = "id = \"linxiang-city-mass-petition\"\n";
    assert!(src.contains(line));
    src.replacen(line, meta, 1)
}

on_both! {
    an_upload_is_checked_with_the_stored_plans_and_a_missing_parent_is_refused => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let child = linxiang_with(&app, "id = \"linxiang-child\"\nparent = \"no-such-plan\"\n").await;
        let events = app.event_count().await;
        let (_, before) = app.get("/api/v1/plans", "demo-duty-officer").await;
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": child, "file_name": "child.toml"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("plan_check_failed")), "{v}");
        let d = v["error"]["details"]["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "P0301").expect("P0301");
        assert_eq!((d["file"].clone(), d["line"].clone(), d["severity"].clone()), (json!("child.toml"), json!(11), json!("error")), "{d}");
        assert!(d["column"].as_u64().unwrap() > 1);
        assert!(v["error"]["message"].as_str().unwrap().contains("child.toml:11:"), "{v}");
        // Nothing stored changed.
        assert_eq!(app.event_count().await, events);
        let (_, after) = app.get("/api/v1/plans", "demo-duty-officer").await;
        assert_eq!(before, after);
        let (s, _) = app.get("/api/v1/plans/linxiang-child", "demo-duty-officer").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // With a parent that is stored, the same file is accepted.
        let child = linxiang_with(&app, "id = \"linxiang-child\"\nparent = \"linxiang-city-mass-petition\"\n").await;
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": child, "file_name": "child.toml"})).await;
        assert_eq!((s, v["standing"].clone()), (StatusCode::CREATED, json!("in_force")), "{v}");
    };

    an_upload_asking_for_excluded_measures_is_refused_and_nothing_is_stored => |app: TestApp| async move {
        // Issue 18 item 7: intake fields for key persons' names, ID numbers and whereabouts, a
        // task to fetch people back for 训诫, one to watch them at home, a daily key-person
        // report. Each is a plan-check error with its scope code; nothing is stored.
        let county = app.jurisdiction("临溪市").await;
        let mut src = linxiang_with(&app, "id = \"linxiang-scope\"\n").await;
        src.push_str(concat!(
            "\n[[intake]]\nid = \"names\"\nlabel = \"重点人员姓名\"\n",
            "\n[[intake]]\nid = \"id_number\"\nlabel = \"身份证号\"\n",
            "\n[[intake]]\nid = \"where\"\nlabel = \"行踪去向\"\n",
            "\n[[levels.tasks]]\ngroup = \"command\"\ntitle = \"接返上访人员，带回本地训诫\"\nwithin = \"2h\"\n",
            "\n[[levels.tasks]]\ngroup = \"command\"\ntitle = \"人盯人稳控在家\"\nwithin = \"1h\"\n",
            "\n[[schedules]]\nid = \"key-daily\"\nname = \"重点人员日报\"\nfrom = [\"deputy-secretary\"]\nto = \"command\"\nevery = \"day\"\nat = \"16:00\"\n",
        ));
        let events = app.event_count().await;
        let (_, before) = app.get("/api/v1/plans", "demo-duty-officer").await;
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": src, "file_name": "scope.toml"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("plan_check_failed")), "{v}");
        let diags = v["error"]["details"]["diagnostics"].as_array().unwrap();
        let codes: Vec<&str> = diags.iter().filter(|d| d["severity"] == "error").map(|d| d["code"].as_str().unwrap()).collect();
        assert_eq!(codes, vec!["P0501", "P0507", "P0502", "P0504", "P0503", "P0501"], "{v}");
        let first = &diags.iter().find(|d| d["code"] == "P0501").unwrap();
        let line = src.lines().position(|l| l.contains("重点人员姓名")).unwrap() + 1;
        assert_eq!((first["file"].clone(), first["line"].clone(), first["column"].clone()), (json!("scope.toml"), json!(line), json!(9)), "{first}");
        assert!(first["message"].as_str().unwrap().contains("重点人员"), "{first}");
        assert!(v["error"]["message"].as_str().unwrap().contains(&format!("scope.toml:{line}:9")), "{v}");
        // Nothing stored.
        assert_eq!(app.event_count().await, events);
        let (_, after) = app.get("/api/v1/plans", "demo-duty-officer").await;
        assert_eq!(before, after);
        let (s, _) = app.get("/api/v1/plans/linxiang-scope", "demo-duty-officer").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        // A file over the size limit is refused with P0007 before it is read.
        let big = format!("{}\n#{}", linxiang_with(&app, "id = \"linxiang-big\"\n").await, "x".repeat(yingji_plan::MAX_SOURCE_BYTES));
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": big})).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
        assert_eq!(app.event_count().await, events);
    };

    a_version_takes_effect_on_its_effective_on_day => |app: TestApp| async move {
        // The app clock: Monday 2026-03-02 10:00 in Shanghai.
        let county = app.jurisdiction("临溪市").await;
        let v2 = linxiang_with(&app, "id = \"linxiang-city-mass-petition\"\neffective_on = 2026-03-05\n").await;
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": v2})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!((v["version"].clone(), v["standing"].clone(), v["effective_on"].clone()), (json!(2), json!("scheduled"), json!("2026-03-05")));
        let standing = |list: &Value| -> Vec<(i64, String)> {
            list["items"].as_array().unwrap().iter().filter(|p| p["plan_id"] == "linxiang-city-mass-petition")
                .map(|p| (p["version"].as_i64().unwrap(), p["standing"].as_str().unwrap().to_string())).collect()
        };
        let (_, list) = app.get("/api/v1/plans", "demo-duty-officer").await;
        assert_eq!(standing(&list), vec![(2, "scheduled".into()), (1, "in_force".into())]);
        let (_, newest) = app.get("/api/v1/plans/linxiang-city-mass-petition", "demo-duty-officer").await;
        assert_eq!((newest["version"].clone(), newest["standing"].clone()), (json!(2), json!("scheduled")));
        // Stored, not used: an incident reported now is graded by version 1.
        let before = create(&app, 30).await;
        assert_eq!(before["plan_version"], 1);
        // 23:59 on 03-04 in Shanghai (15:59 UTC): still version 1.
        app.clock.set("2026-03-04T15:59:00Z".parse().unwrap());
        assert_eq!(create(&app, 30).await["plan_version"], 1);
        // 00:00 on 03-05 in Shanghai: version 2 is in force.
        app.clock.set("2026-03-04T16:00:00Z".parse().unwrap());
        let after = create(&app, 30).await;
        assert_eq!(after["plan_version"], 2);
        let (_, list) = app.get("/api/v1/plans", "demo-duty-officer").await;
        assert_eq!(standing(&list), vec![(2, "in_force".into()), (1, "superseded".into())]);
        // The incident reported before keeps the version it was graded under.
        let (s, v) = app.post(&format!("/api/v1/incidents/{}/verify", id(&before)), "demo-duty-officer", json!({})).await;
        assert_eq!((s, v["plan_version"].clone()), (StatusCode::OK, json!(1)));
        // A plan whose only version is still ahead grades nothing yet.
        let future = linxiang_with(&app, "id = \"linxiang-future\"\neffective_on = 2026-12-01\n").await;
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": future})).await;
        assert_eq!((s, v["standing"].clone()), (StatusCode::CREATED, json!("scheduled")), "{v}");
        let mut body = report_body(&app, 30).await;
        body["plan_id"] = json!("linxiang-future");
        let (s, v) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("plan_not_in_force")), "{v}");
    };
}

/// An active level-Ⅱ incident (120 people) under the Linxiang plan; its id.
async fn active_level_two(app: &TestApp) -> String {
    let iid = id(&create(app, 120).await);
    for (a, who) in [
        ("verify", "demo-duty-officer"),
        ("assess", "demo-commander"),
        ("activate", "demo-commander"),
    ] {
        let (s, v) = app
            .post(&format!("/api/v1/incidents/{iid}/{a}"), who, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{a}: {v}");
    }
    iid
}

on_both! {
    a_coercive_step_is_a_request_decided_only_by_the_approver_it_names => |app: TestApp| async move {
        let iid = active_level_two(&app).await;
        let path = |a: &str| format!("/api/v1/incidents/{iid}/{a}");
        let lin = app.person("林建国").await; // demo-commander, holds 市委分管副书记 (the approver post)
        let police = json!({"step": "police", "approver_id": lin, "reason": "有人冲击大门"});
        // The plan names a consultation (会商) before police.
        let (s, v) = app.post(&path("coercive-steps"), "demo-plac-secretary", police.clone()).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("consultation_required")), "{v}");
        let (s, v) = app.post(&path("consultations"), "demo-duty-officer", json!({"step": "police", "participants": []})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("missing_field")), "{v}");
        let (s, v) = app.post(&path("consultations"), "demo-duty-officer", json!({"step": "police", "participants": ["市信访局", "市公安局"], "conclusion": "劝离无效，报请调集警力"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["consultations"][0]["participants"], json!(["市信访局", "市公安局"]));
        // Nobody requests a step naming themselves.
        let (s, v) = app.post(&path("coercive-steps"), "demo-commander", police.clone()).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("self_approval")), "{v}");
        // The request: pending, and the approver is called.
        let (s, v) = app.post(&path("coercive-steps"), "demo-plac-secretary", police.clone()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let r = &v["coercive_steps"][0];
        assert_eq!((r["state"].clone(), r["recorded_by"]["name"].clone(), r["approver"]["name"].clone()), (json!("pending"), json!("钱立新"), json!("林建国")));
        assert_eq!(r["consultation_id"], v["consultations"][0]["id"]);
        let rid = r["id"].as_str().unwrap().to_string();
        let (_, calls) = app.get(&path("calls"), "demo-duty-officer").await;
        let call = calls["items"].as_array().unwrap().iter()
            .find(|c| c["post"] == "deputy-secretary" && c["subject"].as_str().unwrap().contains("须由您审批"))
            .expect("a call to the approver");
        assert_eq!(call["recipients"].as_array().unwrap().len(), 1);
        assert_eq!(call["recipients"][0]["person"]["name"], "林建国");
        assert!(call["subject"].as_str().unwrap().contains("报请市人民政府调集警力"), "{call}");
        // Nobody but the named approver decides it: not the requester, not another approver,
        // not the duty officer (who lacks the permission).
        let decide = |d: &str| path(&format!("coercive-steps/{rid}/{d}"));
        let events = app.event_count().await;
        for who in ["demo-plac-secretary", "demo-secretary-general"] {
            let (s, v) = app.post(&decide("approve"), who, json!({})).await;
            assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("not_the_approver")), "{who}: {v}");
        }
        let (s, v) = app.post(&decide("approve"), "demo-duty-officer", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")), "{v}");
        assert_eq!(app.event_count().await, events, "refusals write nothing");
        let (s, v) = app.post(&decide("refuse"), "demo-commander", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason_required")));
        let (s, v) = app.post(&decide("approve"), "demo-commander", json!({"reason": "同意"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let r = &v["coercive_steps"][0];
        assert_eq!((r["state"].clone(), r["decided_by"]["name"].clone(), r["decision_reason"].clone()), (json!("approved"), json!("林建国"), json!("同意")));
        assert!(r["decided_at"].is_string());
        let (s, v) = app.post(&decide("refuse"), "demo-commander", json!({"reason": "x"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("coercive_already_decided")));
        let (s, v) = app.post(&path(&format!("coercive-steps/{}/approve", uuid::Uuid::now_v7())), "demo-commander", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("unknown_coercive_request")));
        // A second request, refused by the approver with a reason.
        let (_, v) = app.post(&path("coercive-steps"), "demo-plac-secretary", json!({"step": "dispersal", "approver_id": lin, "reason": "堵塞交通"})).await;
        let rid2 = v["coercive_steps"][1]["id"].as_str().unwrap().to_string();
        let (s, v) = app.post(&path(&format!("coercive-steps/{rid2}/refuse")), "demo-commander", json!({"reason": "尚可劝离"})).await;
        assert_eq!((s, v["coercive_steps"][1]["state"].clone()), (StatusCode::OK, json!("refused")), "{v}");
        // The timeline records who asked and who decided.
        let (_, tl) = app.get(&path("timeline"), "demo-duty-officer").await;
        let tl = tl.to_string();
        for k in ["consultation_recorded", "coercive_step_requested", "coercive_step_approved", "coercive_step_refused"] {
            assert!(tl.contains(&format!("\"{k}\"")), "{k} missing from the timeline");
        }
    };
}
