//! Reports owed upward (首报/续报/终报): activation makes the level's reports obligations, due
//! as `plan simulate` computes them; a late one reminds its responsible post and the commander
//! through the real outbox worker; the responsible person submits it with the plan's fields and
//! it reaches the recipient office; someone else is refused.

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use yingji_domain::clock::Clock;

use crate::harness::{TestApp, report_body};
use crate::notices::rig;
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
/// 林建国: deputy holder of `party-deputy-secretary`, the post commanding level Ⅰ.
const COMMANDER: &str = "demo-commander";
/// 郑国平: holds `police-commissar` only.
const MEMBER: &str = "demo-group-member";

fn report(inc: &Value, pred: impl Fn(&Value) -> bool) -> &Value {
    inc["upward_reports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| pred(r))
        .unwrap_or_else(|| panic!("no such report owed: {}", inc["upward_reports"]))
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

on_both! {
    reports_owed_upward_are_due_late_submitted_and_delivered => |app: TestApp| async move {
        let rig = rig(&app).await;
        let zhao = app.person("赵文华").await;
        let he = app.person("何静怡").await;
        // 600 people: level Ⅰ, which owes 云岭市 a first report within 30 minutes (by the
        // command) on top of level Ⅳ's reports to 市委、市政府.
        let (s, v) = app.post("/api/v1/incidents", DUTY, report_body(&app, 600).await).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let iid = v["id"].as_str().unwrap().to_string();
        let at = |a: &str| format!("/api/v1/incidents/{iid}/{a}");
        for (a, who) in [("verify", DUTY), ("assess", COMMANDER), ("activate", COMMANDER)] {
            let (s, v) = app.post(&at(a), who, json!({})).await;
            assert_eq!(s, StatusCode::OK, "{a}: {v}");
        }
        let activated = app.clock.now();
        let (_, inc) = app.get(&format!("/api/v1/incidents/{iid}"), DUTY).await;
        assert_eq!(inc["level"]["id"], "I", "{inc}");

        // Each report owed is due exactly when `plan simulate` says.
        let plan = app.state.plan("linxiang-city-mass-petition", inc["plan_version"].as_i64().unwrap()).await.unwrap();
        let sim = yingji_plan::simulate_with(
            &plan,
            &yingji_plan::Input { headcount: 600, venue: None, behaviours: &[] },
            &activated,
            Some("I"),
        );
        let owed = inc["upward_reports"].as_array().unwrap();
        assert_eq!(owed.len(), sim.reports.len(), "{inc}");
        for (r, s) in owed.iter().zip(&sim.reports) {
            assert_eq!(r["to"], s.to.as_str());
            assert_eq!(ts(&r["due_at"]), s.due_at.parse::<Timestamp>().unwrap(), "{r}");
        }
        let first = report(&inc, |r| r["kind"] == "first" && r["to"].as_str().unwrap().starts_with("云岭市")).clone();
        let rid = first["id"].as_str().unwrap().to_string();
        assert_eq!(ts(&first["due_at"]), activated + SignedDuration::from_mins(30));
        assert_eq!(first["posts"], json!(["party-deputy-secretary"]));
        assert_eq!(first["late"], false);

        // 31 minutes on, the ticker marks it late and the commander post's holder is reminded.
        app.advance_mins(31);
        yingji_server::tick(&app.state).await.unwrap();
        let (_, inc) = app.get(&format!("/api/v1/incidents/{iid}"), DUTY).await;
        assert_eq!(report(&inc, |r| r["id"] == rid.as_str())["late"], true);
        rig.deliver().await;
        rig.hook(&zhao, &["测试：群众反映拖欠工程款", "首报", "云岭市", "现已逾期"]);

        // Someone who holds neither the responsible post nor the commander's is refused.
        let submit = format!("/api/v1/incidents/{iid}/upward-reports/{rid}/submit");
        let (s, v) = app.post(&submit, MEMBER, json!({"text": "现场约600人"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        assert_eq!(v["error"]["code"], "not_report_owner", "{v}");
        // The commander post's deputy submits it; it reaches 云岭市's office (its duty officer).
        let (s, v) = app.post(&submit, COMMANDER, json!({"text": "现场约600人，已启动Ⅰ级响应"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(report(&v, |r| r["id"] == rid.as_str())["submitted_at"].is_string());
        let (s, v) = app.post(&submit, COMMANDER, json!({"text": "again"})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        assert_eq!(v["error"]["code"], "already_submitted");
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/upward-reports/{iid}/submit"), COMMANDER, json!({"text": "x"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        assert_eq!(v["error"]["code"], "unknown_upward_report");

        // The follow-up to 市委、市政府 names its fields: each must be given; it goes to the
        // level's commander (`deliver_to = "command"`), and the next one falls due 2h later.
        let follow = report(&incident(&app, &iid).await, |r| r["kind"] == "follow-up").clone();
        let fid = follow["id"].as_str().unwrap().to_string();
        let fields: Vec<String> = follow["fields"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
        assert!(fields.contains(&"上访人数".to_string()), "{follow}");
        let mut values: serde_json::Map<String, Value> = fields.iter().map(|f| (f.clone(), json!(format!("{f}值")))).collect();
        values.insert("上访人数".into(), json!("约600人"));
        values.remove("起因");
        let fsubmit = format!("/api/v1/incidents/{iid}/upward-reports/{fid}/submit");
        let (s, v) = app.post(&fsubmit, COMMANDER, json!({"values": values})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "missing_field");
        assert!(v["error"]["message"].as_str().unwrap().contains("起因"), "{v}");
        values.insert("起因".into(), json!("拖欠工程款"));
        let submitted = app.clock.now();
        let (s, v) = app.post(&fsubmit, COMMANDER, json!({"values": values, "text": "秩序平稳"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let next = report(&v, |r| r["kind"] == "follow-up" && r["seq"] == 2);
        assert_eq!(ts(&next["due_at"]), submitted + SignedDuration::from_hours(2));

        rig.deliver().await;
        // The first report at 云岭市's office: the incident, the level, the kind, the recipient
        // and the text.
        rig.hook(&he, &["测试：群众反映拖欠工程款", "I 特别重大", "首报", "云岭市", "现场约600人，已启动Ⅰ级响应"]);
        // The follow-up at the commander's: each field with its value.
        rig.hook(&zhao, &["续报（第1次）", "市委、市政府", "上访人数：约600人", "起因：拖欠工程款", "秩序平稳"]);
        assert_eq!(app.state.store.outbox_count("skipped").await.unwrap(), 0);
        assert!(!app.state.store.outbox_payloads("upward_report").await.unwrap().is_empty());
        assert!(!app.state.store.outbox_payloads("upward_report_late").await.unwrap().is_empty());
    };
}

async fn incident(app: &TestApp, iid: &str) -> Value {
    let (s, v) = app.get(&format!("/api/v1/incidents/{iid}"), DUTY).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}
