//! Petition cases, supervision, scheduled reports and dispute screening through the JSON API.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::on_both;

const CLERK: &str = "demo-petition-clerk";
const DEPUTY: &str = "demo-commander"; // 林建国 holds `petition-deputy` (分管领导)
const SECGEN: &str = "demo-secretary-general";

async fn new_case(app: &TestApp, extra: Value) -> Value {
    let mut body = json!({
        "jurisdiction_id": app.jurisdiction("临溪市").await,
        "channel": "letter",
        "petitioners": [{ "name": "测试来信人", "contact": "13800000000" }],
        "title": "测试：反映小区停车位被占用",
        "grievance": "要求物业公司清理占用的停车位",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let (s, v) = app.post("/api/v1/cases", CLERK, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn act(
    app: &TestApp,
    token: &str,
    cid: &str,
    action: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.post(&format!("/api/v1/cases/{cid}/{action}"), token, body)
        .await
}

async fn timeline_kinds(app: &TestApp, cid: &str) -> Vec<String> {
    let (_, tl) = app
        .get(&format!("/api/v1/cases/{cid}/timeline"), CLERK)
        .await;
    tl["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn steps_of(app: &TestApp, cid: &str) -> Vec<String> {
    let (_, v) = app.get(&format!("/api/v1/cases/{cid}"), CLERK).await;
    v["supervision"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_string())
        .collect()
}

async fn board(app: &TestApp) -> Value {
    let (s, v) = app
        .get(
            "/api/v1/reports/board?plan_id=township-special-period&date=2026-08-12",
            "demo-town-duty",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn tick_at(app: &TestApp, at: &str) -> usize {
    app.clock.set(at.parse().unwrap());
    yingji_server::tick(&app.state).await.unwrap()
}

on_both! {
    case_through_approval_and_supervision => |app: TestApp| async move {
        // Received Monday 2 March 2026, 10:00 in Shanghai. 60 days → 1 May (劳动节, off until
        // 5 May) → due Wednesday 6 May, ending at 24:00 (16:00 UTC).
        let c = new_case(&app, json!({})).await;
        let cid = id(&c);
        assert!(c["case_number"].as_str().unwrap().starts_with("990181-2026-"), "{c}");
        assert_eq!(c["due"]["last_day"], "2026-05-06");
        assert_eq!(c["status"], "registered");
        // Personal data is returned to those in scope, and limited to what a reply needs.
        assert_eq!(c["petitioners"][0]["name"], "测试来信人");

        let (s, v) = act(&app, CLERK, &cid, "classify", json!({"category": "administrative", "topic": "城乡建设"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = act(&app, CLERK, &cid, "classify", json!({"category": "administrative", "topic": "不存在的类别"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_topic")));
        // Routing before approval is refused.
        let (s, v) = act(&app, CLERK, &cid, "route", json!({"kind": "assign", "target": "临溪市住建局"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("not_approved")));
        let (s, _) = act(&app, CLERK, &cid, "propose", json!({"text": "拟交市住建局办理"})).await;
        assert_eq!(s, StatusCode::OK);
        // The chain is 分管领导 → 秘书长: the 秘书长 cannot sign first.
        let (s, v) = act(&app, SECGEN, &cid, "approve", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("wrong_approver")));
        let (s, v) = act(&app, DEPUTY, &cid, "approve", json!({"note": "同意"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("proposed")));
        let (s, v) = act(&app, SECGEN, &cid, "approve", json!({})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("approved")));
        let (s, v) = act(&app, CLERK, &cid, "route", json!({"kind": "assign", "target": "临溪市住建局"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("handling")), "{v}");
        let lead = app.person("林建国").await;
        let (s, v) = act(&app, CLERK, &cid, "lead", json!({"person_id": lead})).await;
        assert_eq!((s, v["lead"]["name"].clone()), (StatusCode::OK, json!("林建国")));

        // Supervision: chase 5 days before the due time, report demanded at it, joint
        // investigation 10 days after. Nothing before the first.
        tick_at(&app, "2026-05-01T15:59:00Z").await;
        assert_eq!(steps_of(&app, &cid).await, Vec::<String>::new());
        tick_at(&app, "2026-05-01T16:00:00Z").await;
        assert_eq!(steps_of(&app, &cid).await, vec!["chase"]);
        let (_, v) = app.get(&format!("/api/v1/cases/{cid}"), CLERK).await;
        assert_eq!(v["supervision"].as_array().unwrap().len(), 1);
        assert_eq!(v["supervision"][0]["step"], "chase");
        assert_eq!(v["supervision"][0]["unit"], "临溪市住建局");
        assert_eq!(v["overdue"], false);
        // A second tick at the same time changes nothing.
        let before = app.event_count().await;
        assert_eq!(tick_at(&app, "2026-05-01T16:00:00Z").await, 0);
        assert_eq!(app.event_count().await, before);

        tick_at(&app, "2026-05-06T16:00:00Z").await;
        assert_eq!(steps_of(&app, &cid).await, vec!["chase", "report_demanded"]);
        // Past the due time an extension can no longer be asked.
        let (s, v) = act(&app, CLERK, &cid, "extension-request", json!({"days": 10, "reason": "需补充材料"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("extension_after_due")));
        tick_at(&app, "2026-05-16T15:59:00Z").await;
        assert_eq!(steps_of(&app, &cid).await.len(), 2);
        tick_at(&app, "2026-05-16T16:00:00Z").await;
        let kinds = timeline_kinds(&app, &cid).await;
        let sup: Vec<&str> = kinds.iter().map(String::as_str).filter(|k| ["supervised", "became_overdue"].contains(k)).collect();
        assert_eq!(sup, vec!["supervised", "became_overdue", "supervised", "supervised"]);
        let (_, v) = app.get(&format!("/api/v1/cases/{cid}"), CLERK).await;
        let steps: Vec<&str> = v["supervision"].as_array().unwrap().iter().map(|s| s["step"].as_str().unwrap()).collect();
        assert_eq!(steps, vec!["chase", "report_demanded", "joint_investigation"]);
        // Each step reached the handling unit through the outbox.
        let out = app.state.store.outbox_payloads("case_supervision").await.unwrap();
        assert_eq!(out.iter().filter(|p| p.contains(&cid)).count(), 3);

        // The upper office (云岭市) sees the case in its supervision view; a street does not.
        let (_, up) = app.get("/api/v1/cases?supervised=true", "demo-city-duty").await;
        let row = up["items"].as_array().unwrap().iter().find(|r| r["id"] == cid.as_str()).expect("in the city's view").clone();
        assert_eq!(row["supervision_step"], "joint_investigation");
        assert_eq!(row["overdue"], true);
        let (s, v) = app.get(&format!("/api/v1/cases/{cid}"), "demo-street-duty").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
        let (_, od) = app.get("/api/v1/cases?overdue=true", CLERK).await;
        assert!(od["items"].as_array().unwrap().iter().any(|r| r["id"] == cid.as_str()));

        // The written reply, late; the follow-up visit closes it.
        let (s, v) = act(&app, CLERK, &cid, "reply", json!({"date": "2026-05-17", "channel": "书面邮寄", "summary": "已督促物业公司清理停车位"})).await;
        assert_eq!((s, v["reply"]["on_time"].clone()), (StatusCode::OK, json!(false)), "{v}");
        let (s, v) = act(&app, CLERK, &cid, "follow-up", json!({"satisfaction": "basically_satisfied"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("closed")));
        // No more supervision once replied.
        let n = timeline_kinds(&app, &cid).await.len();
        tick_at(&app, "2026-06-30T00:00:00Z").await;
        assert_eq!(timeline_kinds(&app, &cid).await.len(), n);

        // Statistics for Q2… the case was accepted in Q1.
        let (_, st) = app.get("/api/v1/cases/stats?year=2026&quarter=1&by=department", CLERK).await;
        let row = st["items"].as_array().unwrap().iter().find(|r| r["key"] == "临溪市住建局").expect("department row").clone();
        assert_eq!(row["received"], 1);
        assert_eq!(row["overdue"], 1);
        assert_eq!(row["on_time"], 0);
        assert_eq!(row["satisfaction"]["basically_satisfied"], 1);
        let (_, yr) = app.get("/api/v1/cases/stats?year=2026", "demo-city-duty").await;
        // The demo's two cases plus this one.
        assert_eq!(yr["items"][0]["received"], 3);
        let (_, bj) = app.get("/api/v1/cases/stats?year=2026&by=jurisdiction", "demo-city-duty").await;
        assert_eq!(bj["items"].as_array().unwrap().len(), 1, "{bj}");
        assert_eq!((bj["items"][0]["name"].clone(), bj["items"][0]["received"].clone()), (json!("临溪市"), json!(3)));
        let (s, _) = app.get("/api/v1/cases/stats?year=2026&by=weather", CLERK).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        // The hash chain holds.
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty());
    };

    extension_rules_through_the_api => |app: TestApp| async move {
        let c = new_case(&app, json!({"channel": "online"})).await;
        let cid = id(&c);
        let (s, v) = act(&app, CLERK, &cid, "extension-request", json!({"days": 31, "reason": "案情复杂"})).await;
        assert_eq!((s, v["error"]["code"].clone(), v["error"]["details"]["max"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("extension_too_long"), json!(30)));
        let (s, v) = act(&app, CLERK, &cid, "extension-request", json!({"days": 30})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("missing_field")));
        let (s, v) = act(&app, CLERK, &cid, "extension-request", json!({"days": 30, "reason": "案情复杂，需多部门会商"})).await;
        assert_eq!((s, v["extension"]["state"].clone()), (StatusCode::OK, json!("requested")), "{v}");
        // The 秘书长 is not the post the rules name for extensions.
        let (s, v) = act(&app, SECGEN, &cid, "extension-decision", json!({"approve": true})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("wrong_approver")));
        let (s, v) = act(&app, DEPUTY, &cid, "extension-decision", json!({"approve": true})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // 6 May + 30 days = Friday 5 June.
        assert_eq!(v["due"]["last_day"], "2026-06-05");
        let (s, v) = act(&app, CLERK, &cid, "extension-request", json!({"days": 5, "reason": "再延"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("extension_already_used")));
        // The petitioner is told.
        let notes = app.state.store.outbox_payloads("petitioner_notice").await.unwrap();
        assert!(notes.iter().any(|n| n.contains(&cid) && n.contains("2026-06-05")), "{notes:?}");
        let (_, st) = app.get("/api/v1/cases/stats?year=2026&quarter=1&by=channel", CLERK).await;
        let online = st["items"].as_array().unwrap().iter().find(|r| r["key"] == "online").unwrap().clone();
        assert_eq!((online["received"].clone(), online["extended"].clone()), (json!(1), json!(1)));
    };

    referral_transfer_links_and_idempotency => |app: TestApp| async move {
        // Idempotent registration: the same key returns the same case and number.
        let body = json!({
            "jurisdiction_id": app.jurisdiction("临溪市").await, "channel": "visit", "form": "collective",
            "headcount": 12, "petitioners": [{"name": "代表甲"}, {"name": "代表乙"}],
            "title": "测试：集体反映征地补偿", "grievance": "要求公开征地补偿标准",
        });
        let (s1, v1, _) = app.post_with_key("/api/v1/cases", CLERK, body.clone(), "case-1").await;
        let (s2, v2, h2) = app.post_with_key("/api/v1/cases", CLERK, body.clone(), "case-1").await;
        assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
        assert_eq!(v1["case_number"], v2["case_number"]);
        assert_eq!(h2.get("idempotent-replayed").unwrap(), "true");
        // A collective petition without representatives is refused.
        let mut bad = body.clone();
        bad["petitioners"] = json!([]);
        let (s, v) = app.post("/api/v1/cases", CLERK, bad).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("collective_needs_representatives")));
        let cid = id(&v1);
        act(&app, CLERK, &cid, "propose", json!({"text": "拟转交青石镇办理"})).await;
        act(&app, DEPUTY, &cid, "approve", json!({})).await;
        act(&app, SECGEN, &cid, "approve", json!({})).await;
        // 转交 to 青石镇: a case of its own there, whose origin is 临溪市.
        let town = app.jurisdiction("青石镇").await;
        let (s, v) = act(&app, CLERK, &cid, "route", json!({"kind": "refer", "target": "青石镇人民政府", "target_jurisdiction_id": town})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let child = v["routing"]["child_case"].as_str().unwrap().to_string();
        let (s, ch) = app.get(&format!("/api/v1/cases/{child}"), "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK, "{ch}");
        assert_eq!(ch["origin"]["case_id"], cid.as_str());
        assert_eq!(ch["petitioners"].as_array().unwrap().len(), 2);
        // The town asks for more time; only the referring body (临溪市) may grant it.
        let (s, v) = act(&app, "demo-town-duty", &child, "extension-request", json!({"days": 20, "reason": "需镇村两级调查"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v) = act(&app, "demo-town-duty", &child, "extension-decision", json!({"approve": true})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("wrong_approver")));
        let (s, v) = act(&app, CLERK, &child, "extension-decision", json!({"approve": true})).await;
        assert_eq!((s, v["extension"]["state"].clone()), (StatusCode::OK, json!("approved")), "{v}");

        // 转办 needs a notice to the petitioner, which goes to the outbox.
        let c2 = new_case(&app, json!({"title": "测试：反映法院执行问题", "grievance": "要求法院依法执行"})).await;
        let c2id = id(&c2);
        act(&app, CLERK, &c2id, "propose", json!({"text": "属法院职权，拟转办"})).await;
        act(&app, DEPUTY, &c2id, "approve", json!({})).await;
        act(&app, SECGEN, &c2id, "approve", json!({})).await;
        let (s, v) = act(&app, CLERK, &c2id, "route", json!({"kind": "transfer", "target": "临溪市人民法院"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("missing_field")));
        let (s, _) = act(&app, CLERK, &c2id, "route", json!({"kind": "transfer", "target": "临溪市人民法院", "notice": "您反映的问题已转临溪市人民法院办理"})).await;
        assert_eq!(s, StatusCode::OK);
        let notes = app.state.store.outbox_payloads("petitioner_notice").await.unwrap();
        assert!(notes.iter().any(|n| n.contains(&c2id) && n.contains("临溪市人民法院")));

        // A repeat petition is linked to the earlier one, and a case to an incident.
        let (s, v) = act(&app, CLERK, &c2id, "link", json!({"case_id": cid})).await;
        assert_eq!((s, v["related_cases"][0].clone()), (StatusCode::OK, json!(cid)));
        let (s, v) = act(&app, CLERK, &c2id, "link", json!({"case_id": c2id})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("self_link")));
        let (_, incs) = app.get("/api/v1/incidents", "demo-duty-officer").await;
        let iid = incs["items"][0]["id"].as_str().unwrap().to_string();
        let (s, v) = act(&app, CLERK, &c2id, "link", json!({"incident_id": iid})).await;
        assert_eq!((s, v["incident_id"].clone()), (StatusCode::OK, json!(iid)));
        let (s, v) = act(&app, CLERK, &c2id, "frobnicate", json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
    };

    late_report_board => |app: TestApp| async move {
        // Three villages under 青石镇 each have a village secretary, who owe the plan's daily
        // report (township-special-period, `daily-report`, 15:00 inside the special period),
        // as does the demo's 枫林村 (its secretary, 黎春梅), who sends nothing here.
        let town = app.jurisdiction("青石镇").await;
        let admin = "demo-province-admin";
        let mut villages = vec![];
        for (i, name) in ["测试甲村", "测试乙村", "测试丙村"].iter().enumerate() {
            let (s, j) = app.post("/api/v1/jurisdictions", admin, json!({"parent_id": town, "name": name, "kind": "village"})).await;
            assert_eq!(s, StatusCode::CREATED, "{j}");
            let token = format!("test-village-secretary-{i}");
            let (s, p) = app.post("/api/v1/people", admin, json!({"jurisdiction_id": j["id"], "name": format!("村书记{i}"), "token": token})).await;
            assert_eq!(s, StatusCode::CREATED, "{p}");
            let (s, h) = app.post(&format!("/api/v1/jurisdictions/{}/holders", j["id"].as_str().unwrap()), admin, json!({"post_id": "village-secretaries", "person_id": p["id"]})).await;
            assert_eq!(s, StatusCode::CREATED, "{h}");
            // Submitting a report needs a role (submit_reports) as well as the owing post.
            let (s, g) = app.post(&format!("/api/v1/people/{}/grants/add", p["id"].as_str().unwrap()), admin, json!({"role": "group_member", "jurisdiction_id": j["id"]})).await;
            assert_eq!(s, StatusCode::NO_CONTENT, "{g}");
            villages.push(token);
        }
        // 12 August 2026, 14:00 in Shanghai.
        app.clock.set("2026-08-12T06:00:00Z".parse().unwrap());
        let due = "2026-08-12T07:00:00Z";
        let submit = |nil: bool, content: Option<&str>| json!({
            "plan_id": "township-special-period", "schedule_id": "daily-report", "due_at": due,
            "nil": nil, "content": content,
        });
        let (s, v) = app.post("/api/v1/reports/submissions", &villages[0], submit(false, Some("排查矛盾纠纷2件，已化解1件"))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        app.advance_mins(10);
        let (s, v) = app.post("/api/v1/reports/submissions", &villages[1], submit(true, None)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, v) = app.post("/api/v1/reports/submissions", &villages[1], submit(true, None)).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("already_submitted")));
        // Someone who owes nothing cannot submit; a time that is no slot is refused.
        let (s, v) = app.post("/api/v1/reports/submissions", "demo-town-duty", submit(true, None)).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("not_owed")));
        let mut wrong = submit(true, None);
        wrong["due_at"] = json!("2026-08-12T08:00:00Z");
        let (s, v) = app.post("/api/v1/reports/submissions", &villages[2], wrong).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_slot")));

        // At 14:59 nobody is late.
        app.clock.set("2026-08-12T06:59:00Z".parse().unwrap());
        let b = board(&app).await;
        assert_eq!(b["late"], 0);
        // At 15:01 exactly the third village is late, and 枫林村.
        app.clock.set("2026-08-12T07:01:00Z".parse().unwrap());
        let b = board(&app).await;
        let states: Vec<(String, String)> = b["items"].as_array().unwrap().iter()
            .map(|r| (r["party_name"].as_str().unwrap().to_string(), r["state"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(states, vec![
            ("枫林村·各村党支部书记、村委主任".to_string(), "late".to_string()),
            ("测试甲村·各村党支部书记、村委主任".to_string(), "submitted".to_string()),
            ("测试乙村·各村党支部书记、村委主任".to_string(), "nil".to_string()),
            ("测试丙村·各村党支部书记、村委主任".to_string(), "late".to_string()),
        ], "{b}");
        assert_eq!(b["late"], 2);
        // The ticker reminds each late village once.
        yingji_server::tick(&app.state).await.unwrap();
        yingji_server::tick(&app.state).await.unwrap();
        let late = app.state.store.outbox_payloads("report_late").await.unwrap();
        let today: Vec<&String> = late.iter().filter(|p| p.contains(due)).collect();
        assert_eq!(today.len(), 2, "{late:?}");
        assert!(today.iter().any(|p| p.contains("测试丙村")) && today.iter().any(|p| p.contains("枫林村")), "{today:?}");
        assert!(!today.iter().any(|p| p.contains("测试甲村") || p.contains("测试乙村")), "{today:?}");
        // Nobody reported the day before (11 August, also in the period): four reminders.
        assert_eq!(late.iter().filter(|p| p.contains("2026-08-11T07:00:00Z")).count(), 4);
        // Outside the special period there is no report to owe.
        let (_, b) = app.get("/api/v1/reports/board?plan_id=township-special-period&date=2026-03-02", "demo-town-duty").await;
        assert_eq!(b["items"].as_array().unwrap().len(), 0);
    };

    dispute_screening_and_resolution => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let village = app.jurisdiction("枫林村").await;
        // Today (2 March) is inside the town's 两会 period (1–15 March): a daily round.
        let (s, r) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town})).await;
        assert_eq!((s, r["cadence"].clone(), r["round_key"].clone()), (StatusCode::CREATED, json!("daily"), json!("2026-03-02")), "{r}");
        // 15 July is outside every special period: a monthly round.
        let (s, r) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town, "date": "2026-07-15"})).await;
        assert_eq!((s, r["cadence"].clone(), r["round_key"].clone()), (StatusCode::CREATED, json!("monthly"), json!("2026-07")), "{r}");
        let (s, v) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town, "date": "2026-07-01"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("round_exists")));
        // Inside the plan's special period (重大会议期间): a daily round.
        let (s, d) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town, "date": "2026-08-12"})).await;
        assert_eq!((s, d["cadence"].clone(), d["round_key"].clone()), (StatusCode::CREATED, json!("daily"), json!("2026-08-12")));
        let rid = r["id"].as_str().unwrap();
        let (_, view) = app.get(&format!("/api/v1/disputes/rounds/{rid}"), "demo-town-duty").await;
        assert_eq!(view["missing"], 1);
        let (s, v) = app.post(&format!("/api/v1/disputes/rounds/{rid}/submissions"), "demo-town-duty", json!({"unit_id": village, "nil": true})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v["missing"], 0);
        assert_eq!(v["units"][0]["state"], "nil");

        let (s, dsp) = app.post("/api/v1/disputes", "demo-town-duty", json!({
            "jurisdiction_id": village, "round_id": rid, "title": "测试：宅基地界址纠纷",
            "parties": [{"name": "甲户", "role": "申请方"}, {"name": "乙户", "role": "被申请方"}],
            "nature": "土地", "area": "枫林村三组", "risk": "major", "summary": "双方对界址有争议",
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{dsp}");
        let did = dsp["id"].as_str().unwrap();
        let path = |a: &str| format!("/api/v1/disputes/{did}/{a}");
        let (s, v) = app.post(&path("result"), "demo-town-duty", json!({"resolved": true, "result": "x"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("illegal_transition")));
        let (s, v) = app.post(&path("assign"), "demo-town-duty", json!({"unit": "青石镇司法所", "due_on": "2026-03-20"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("mediating")));
        let (s, _) = app.post(&path("report-upward"), "demo-town-duty", json!({"reason": "涉及多户，重大疑难"})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app.post(&path("report-upward"), "demo-town-duty", json!({"reason": "again"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("already_reported")));
        let (s, v) = app.post(&path("result"), "demo-town-duty", json!({"resolved": true, "result": "经调解双方达成协议"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("resolved")));
        let (s, _) = app.post(&path("follow-up"), "demo-town-duty", json!({"note": "回访双方，协议已履行"})).await;
        assert_eq!(s, StatusCode::OK);
        let (s, v) = app.post(&path("close"), "demo-town-duty", json!({})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("closed")));
        // The county sees the major dispute reported upward; the outbox carries it.
        let (_, list) = app.get("/api/v1/disputes?reported_upward=true", "demo-duty-officer").await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(app.state.store.outbox_payloads("dispute_reported_upward").await.unwrap().len(), 1);
        // A street cannot see it.
        let (s, _) = app.get(&format!("/api/v1/disputes/{did}"), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    };
}

/// Every `$ref` in a JSON document.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

on_both! {
    case_endpoints_answer_their_typed_schemas => |app: TestApp| async move {
        let (s, doc, _) = app.send(axum::http::Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        let mut all = vec![];
        refs(&doc, &mut all);
        for r in &all {
            let name = r.trim_start_matches("#/components/schemas/");
            assert!(doc["components"]["schemas"][name].is_object(), "{r} does not resolve");
        }
        let body = |path: &str, method: &str, status: &str| {
            doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
        };
        let schema = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
        assert_eq!(body("/api/v1/cases", "post", "201"), schema("CaseView"));
        assert_eq!(body("/api/v1/cases/{id}", "get", "200"), schema("CaseView"));
        assert_eq!(body("/api/v1/cases/{id}/{action}", "post", "200"), schema("CaseView"));
        assert_eq!(body("/api/v1/cases", "get", "200"), schema("CaseList"));
        assert_eq!(body("/api/v1/cases/stats", "get", "200"), schema("CaseStats"));
        assert_eq!(body("/api/v1/cases/{id}/timeline", "get", "200"), schema("CaseTimeline"));
        assert_eq!(body("/api/v1/cases/{id}/reveal", "post", "200"), schema("RevealView"));
        // What the API answers has every property the schemas require.
        let c = new_case(&app, json!({})).await;
        for k in doc["components"]["schemas"]["Case"]["required"].as_array().unwrap() {
            assert!(c.get(k.as_str().unwrap()).is_some(), "the case has no `{k}`: {c}");
        }
        assert!(c["status_label"].is_string());
        let (_, list) = app.get("/api/v1/cases", CLERK).await;
        for k in doc["components"]["schemas"]["CaseListItem"]["required"].as_array().unwrap() {
            assert!(list["items"][0].get(k.as_str().unwrap()).is_some(), "a list item has no `{k}`");
        }
    };
}

on_both! {
    concurrent_registrations_get_consecutive_numbers => |app: TestApp| async move {
        // Sixteen registrations at once in one jurisdiction (issue 20: 5 of 16 were refused
        // with 409): they take turns at the counter, so every one succeeds, numbered without
        // a gap.
        let j: uuid::Uuid = app.jurisdiction("临溪市").await.parse().unwrap();
        let clerk = yingji_app::Actor::from_token(&app.state, CLERK).await.unwrap().unwrap();
        let n = 16;
        let mut set = tokio::task::JoinSet::new();
        for i in 0..n {
            let (state, clerk) = (app.state.clone(), clerk.clone());
            set.spawn(async move {
                let req = yingji_app::cases::NewCaseRequest {
                    jurisdiction_id: j,
                    channel: "letter".into(),
                    petitioners: vec![yingji_app::cases::PetitionerRequest { name: format!("来信人{i}"), ..Default::default() }],
                    title: format!("并发登记{i}"),
                    grievance: "要求答复".into(),
                    ..Default::default()
                };
                let out = state.execute(&clerk, None, &yingji_app::cases::RegisterCase(req)).await.unwrap();
                out.output().unwrap().case.case_number
            });
        }
        let mut numbers = set.join_all().await;
        numbers.sort();
        let seqs: Vec<u32> = numbers.iter().map(|s| s.rsplit('-').next().unwrap().trim_start_matches(|c: char| !c.is_ascii_digit()).parse().unwrap()).collect();
        let first = seqs[0];
        assert_eq!(seqs, (first..first + n).collect::<Vec<_>>(), "{numbers:?}");
    };
}

on_both! {
    a_received_date_is_bounded => |app: TestApp| async move {
        let j = app.jurisdiction("临溪市").await;
        let body = |received: &str, reason: Option<&str>| {
            let mut b = json!({
                "jurisdiction_id": j,
                "channel": "letter",
                "petitioners": [{ "name": "测试来信人" }],
                "title": "测试：反映路灯损坏",
                "grievance": "要求修复路灯",
                "received_at": received,
            });
            if let Some(r) = reason {
                b["backdate_reason"] = json!(r);
            }
            b
        };
        let before = app.event_count().await;
        // 1970, or a year ago: refused, saying which key and why; nothing stored.
        for old in ["1970-01-01T00:00:00Z", &app.clock_now_plus_days(-365)] {
            let (s, v) = app.post("/api/v1/cases", CLERK, body(old, None)).await;
            assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
            assert_eq!(v["error"]["code"], "received_too_long_ago", "{v}");
            assert_eq!(v["error"]["details"]["field"], "received_at", "{v}");
        }
        // Tomorrow: refused as in the future.
        let (s, v) = app.post("/api/v1/cases", CLERK, body(&app.clock_now_plus_days(1), None)).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_time")), "{v}");
        assert_eq!(app.event_count().await, before);
        // Within the configured 30 days: registered without a reason.
        let (s, v) = app.post("/api/v1/cases", CLERK, body(&app.clock_now_plus_days(-29), None)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        // Older, with the reason for the late registration: registered, and the reason is on
        // the case's timeline.
        let (s, v) = app.post("/api/v1/cases", CLERK, body(&app.clock_now_plus_days(-45), Some("来信夹在其他材料中，整理档案时发现"))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let cid = id(&v);
        let (_, tl) = app.get(&format!("/api/v1/cases/{cid}/timeline"), CLERK).await;
        let reg = tl["items"].as_array().unwrap().iter().find(|e| e["kind"] == "registered").unwrap().clone();
        assert_eq!(reg["reason"], "来信夹在其他材料中，整理档案时发现", "{reg}");
    };
}

on_both! {
    a_provisional_due_date_is_recomputed_when_its_year_arrives => |app: TestApp| async move {
        // Received Tuesday 1 December 2026: 60 days end on Saturday 30 January 2027, a year
        // with no calendar yet, so the due date rolls to Monday 1 February, provisionally.
        app.clock.set("2026-12-01T02:00:00Z".parse().unwrap());
        let c = new_case(&app, json!({})).await;
        let cid = id(&c);
        assert_eq!((c["due"]["last_day"].clone(), c["due"]["provisional"].clone()), (json!("2027-02-01"), json!(true)), "{c}");
        // With the same calendar there is nothing to recompute (once what is due anyway at this
        // time has been ticked).
        yingji_server::tick(&app.state).await.unwrap();
        assert_eq!(yingji_app::cases::recompute_provisional(&app.state).await.unwrap(), 0);
        // The 2027 calendar arrives (an invented test year: days off 29 January – 2 February).
        let file = "name = '测试 2027'\nyears = [2027]\nweekend = ['saturday', 'sunday']\nholidays = [{ name = '测试假日', from = 2027-01-29, to = 2027-02-02 }]\n";
        let (calendar, _) = yingji_domain::calendar::Calendar::builtin_with([file]).unwrap();
        let with_2027 = app.state.clone().with_case_rules(yingji_server::CaseRules { calendar, ..Default::default() });
        assert_eq!(yingji_app::cases::recompute_provisional(&with_2027).await.unwrap(), 1);
        let (_, c) = app.get(&format!("/api/v1/cases/{cid}"), CLERK).await;
        assert_eq!((c["due"]["last_day"].clone(), c["due"]["provisional"].clone()), (json!("2027-02-03"), json!(false)), "{c}");
        let (_, tl) = app.get(&format!("/api/v1/cases/{cid}/timeline"), CLERK).await;
        let ev = tl["items"].as_array().unwrap().iter().find(|e| e["kind"] == "due_recomputed").expect("a due_recomputed event").clone();
        assert_eq!((ev["payload"]["was"]["last_day"].clone(), ev["payload"]["due"]["last_day"].clone()), (json!("2027-02-01"), json!("2027-02-03")), "{ev}");
        // Once final, it is not recomputed again.
        assert_eq!(yingji_app::cases::recompute_provisional(&with_2027).await.unwrap(), 0);
    };
}
