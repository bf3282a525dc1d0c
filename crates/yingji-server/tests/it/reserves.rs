//! Reserves (issue 23 item 2), as the people see it: an item kept by a post; issuing it to an
//! incident below its minimum tells the custodian's post through a real local receiver (once,
//! until it is restocked); more than is on hand is refused and nothing changes; the incident's
//! room shows what was issued to it; the console offers the forms only to those who may move
//! stock.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body};
use crate::notices::rig;
use crate::offers::{console_session, csrf_of, page};
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const MEMBER: &str = "demo-group-member";

async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, body).await;
    assert!(s.is_success(), "{path} as {token}: {s} {v}");
    v
}

on_both! {
    issuing_below_the_minimum_alerts_the_custodians_post => |app: TestApp| async move {
        let rig = rig(&app).await;
        // Kept by the logistics group's lead post (市信访局局长, held by 周敏).
        let (s, item) = app.post("/api/v1/reserves", DUTY, json!({
            "kind": "material", "name": "瓶装饮用水", "unit": "箱", "quantity": 40, "minimum": 30,
            "location": "临溪市应急物资库", "custodian_post": "petition-bureau-director"})).await;
        assert_eq!(s, StatusCode::CREATED, "{item}");
        let id = item["id"].as_str().unwrap().to_string();
        let inc = ok(&app, "/api/v1/incidents", DUTY, report_body(&app, 120).await).await;
        let iid = inc["id"].as_str().unwrap().to_string();
        let mv = |kind: &str, q: i64, incident: Option<&str>| json!({"kind": kind, "quantity": q, "incident_id": incident, "note": "现场保障"});

        // 8 issued: 32 left, above the minimum; nobody is told.
        ok(&app, &format!("/api/v1/reserves/{id}/movements"), DUTY, mv("issue", 8, Some(&iid))).await;
        rig.deliver().await;
        let zhou = app.person("周敏").await;
        let low = |rig: &crate::notices::Rig| rig.http.lock().unwrap().iter()
            .filter(|(p, b)| *p == format!("/hook/{zhou}") && b["subject"].as_str().unwrap_or("").contains("瓶装饮用水"))
            .count();
        assert_eq!(low(&rig), 0);
        // 5 more: 27 left, below 30: the custodian's post is told.
        let v = ok(&app, &format!("/api/v1/reserves/{id}/movements"), DUTY, mv("issue", 5, Some(&iid))).await;
        assert_eq!(v["quantity"], 27);
        assert_eq!(v["below_minimum"], true);
        rig.deliver().await;
        let m = rig.hook(&zhou, &["瓶装饮用水", "27", "30"]);
        assert!(m["text"].as_str().unwrap().contains("临溪市应急物资库"), "{m}");
        assert!(!m["text"].as_str().unwrap().starts_with("【演练】"), "a real store is not a drill");
        // Further down: not told again.
        ok(&app, &format!("/api/v1/reserves/{id}/movements"), DUTY, mv("out", 2, None)).await;
        rig.deliver().await;
        assert_eq!(low(&rig), 1, "told once while it stays low");
        // More than on hand: refused, nothing changes.
        let before = app.event_count().await;
        let (s, e) = app.post(&format!("/api/v1/reserves/{id}/movements"), DUTY, mv("issue", 26, Some(&iid))).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["error"]["code"], "insufficient_stock");
        assert_eq!(e["error"]["details"]["on_hand"], 25);
        // Returning more than the incident holds, an issue without an incident, a bad kind.
        let (s, e) = app.post(&format!("/api/v1/reserves/{id}/movements"), DUTY, mv("return", 14, Some(&iid))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        let (s, _) = app.post(&format!("/api/v1/reserves/{id}/movements"), DUTY, mv("issue", 1, None)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, e) = app.post(&format!("/api/v1/reserves/{id}/movements"), DUTY, mv("teleport", 1, None)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e["error"]["code"], "invalid_kind");
        assert_eq!(app.event_count().await, before, "nothing written");
        let (_, v) = app.get(&format!("/api/v1/reserves/{id}"), DUTY).await;
        assert_eq!(v["item"]["quantity"], 25);
        assert_eq!(v["item"]["issued"][0]["quantity"], 13);
        assert_eq!(v["movements"].as_array().unwrap().len(), 3);

        // The incident's room shows what was issued to it.
        let (_, issued) = app.get(&format!("/api/v1/incidents/{iid}/reserves"), DUTY).await;
        assert_eq!(issued.as_array().unwrap().len(), 2, "{issued}");
        let cookie = console_session(&app, DUTY).await;
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        let block = &room[room.find("id=\"room-reserves\"").unwrap()..];
        let block = &block[..block.find("</section>").unwrap()];
        assert_eq!(block.matches("data-reserve=").count(), 2, "{block}");
        assert!(block.contains("瓶装饮用水"));
        // A return restocks it above the minimum.
        let v = ok(&app, &format!("/api/v1/reserves/{id}/movements"), DUTY, mv("return", 13, Some(&iid))).await;
        assert_eq!(v["quantity"], 38);
        assert_eq!(v["below_minimum"], false);
        assert!(v["issued"].as_array().unwrap().is_empty());
        // Someone without the right may not move stock; another area does not see it.
        let (s, _) = app.post(&format!("/api/v1/reserves/{id}/movements"), MEMBER, mv("in", 1, None)).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.get(&format!("/api/v1/reserves/{id}"), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty());
    };

    the_console_records_a_movement_and_offers_it_only_to_those_who_may => |app: TestApp| async move {
        let cookie = console_session(&app, DUTY).await;
        let (s, html) = page(&app, Method::GET, "/reserves", &cookie, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("data-action=\"reserve-create\""));
        let csrf = csrf_of(&html);
        let (s, _) = page(&app, Method::POST, "/reserves/new", &cookie,
            Some(format!("csrf={csrf}&kind=vehicle&name=%E5%BA%94%E6%80%A5%E5%A4%A7%E5%B7%B4&unit=%E8%BE%86&quantity=2&minimum=1&location=%E5%B8%82%E5%BA%94%E6%80%A5%E5%B1%80&custodian_post="))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, items) = app.get("/api/v1/reserves", DUTY).await;
        let id = items[0]["id"].as_str().unwrap().to_string();
        assert_eq!(items[0]["kind"], "vehicle");
        let (s, _) = page(&app, Method::POST, &format!("/reserves/{id}/move"), &cookie,
            Some(format!("csrf={csrf}&kind=out&quantity=2&incident_id=&note=%E7%BB%B4%E4%BF%AE"))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, html) = page(&app, Method::GET, &format!("/reserves?item={id}"), &cookie, None).await;
        assert!(html.contains("data-low=\"true\""), "below its minimum, marked");
        assert!(html.contains("id=\"reserve-history\""));
        // A group member sees the items and no form.
        let member = console_session(&app, MEMBER).await;
        let (_, html) = page(&app, Method::GET, "/reserves", &member, None).await;
        assert!(html.contains("应急大巴"));
        assert!(!html.contains("data-action=\"reserve-move\""));
        assert!(!html.contains("data-action=\"reserve-create\""));
    };
}

on_both! {
    teams_keep_their_readiness_and_funds_are_spent_on_incidents => |app: TestApp| async move {
        let (s, t) = app.post("/api/v1/teams", DUTY, json!({"name": "市应急救援队", "leader": "市应急局分管负责人", "members": ["第一分队", "第二分队"]})).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        assert_eq!(t["readiness"], "ready");
        let tid = t["id"].as_str().unwrap().to_string();
        let v = ok(&app, &format!("/api/v1/teams/{tid}/readiness"), DUTY, json!({"readiness": "standby", "note": "装备检修中"})).await;
        assert_eq!(v["readiness"], "standby");
        let (s, _) = app.post(&format!("/api/v1/teams/{tid}/readiness"), DUTY, json!({"readiness": "sleeping"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (_, teams) = app.get("/api/v1/teams", DUTY).await;
        assert_eq!(teams[0]["readiness"], "standby");

        let (s, b) = app.post("/api/v1/budget-lines", DUTY, json!({"plan_id": "linxiang-city-mass-petition", "name": "现场保障经费", "amount_fen": 1_000_000})).await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let bid = b["id"].as_str().unwrap().to_string();
        let (s, _) = app.post("/api/v1/budget-lines", DUTY, json!({"plan_id": "no-such-plan", "name": "x", "amount_fen": 1})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let inc = ok(&app, "/api/v1/incidents", DUTY, report_body(&app, 120).await).await;
        let iid = inc["id"].as_str().unwrap().to_string();
        let v = ok(&app, &format!("/api/v1/budget-lines/{bid}/spending"), DUTY, json!({"incident_id": iid, "amount_fen": 300_000, "note": "饮用水和餐食"})).await;
        assert_eq!(v["spent_fen"], 300_000);
        let (s, e) = app.post(&format!("/api/v1/budget-lines/{bid}/spending"), DUTY, json!({"incident_id": iid, "amount_fen": 700_001})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{e}");
        assert_eq!(e["error"]["code"], "insufficient_stock");
        let (_, spent) = app.get(&format!("/api/v1/incidents/{iid}/spending"), DUTY).await;
        assert_eq!(spent.as_array().unwrap().len(), 1);
        assert_eq!(spent[0]["amount_fen"], 300_000);
        // The room and the reserves page show them; the forms only to those who may.
        let cookie = console_session(&app, DUTY).await;
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(room.contains("data-spending") && room.contains("3000.00"), "the room lists the spending");
        let (_, html) = page(&app, Method::GET, "/reserves", &cookie, None).await;
        assert!(html.contains("data-readiness=\"standby\""));
        assert!(html.contains("7000.00"), "what is left of the line");
        assert!(html.contains("data-action=\"budget-spend\"") && html.contains("data-action=\"team-readiness\""));
        let member = console_session(&app, MEMBER).await;
        let (_, html) = page(&app, Method::GET, "/reserves", &member, None).await;
        assert!(html.contains("市应急救援队"));
        assert!(!html.contains("data-action=\"budget-spend\"") && !html.contains("data-action=\"team-readiness\""));
    };
}
