//! The plan carried out, to the person (issue 17): one response run with the manual clock, as
//! the people in it see it through the real outbox worker (webhook and SMTP receivers).
//!
//! 120 people → Ⅱ proposed and activated: the level's commanders, the office and every group are
//! called, exactly the posts `plan simulate` lists, with the same tasks, reports and deadlines; nobody
//! acknowledges → the deputies → the parent's office; 520 → Ⅰ accepted: the level-Ⅰ commander is
//! called, the parent (云岭市) has a linked record and its office a call, later reminders name
//! level Ⅰ; the first report owed upward turns late unsent and the post owing it is told; the
//! response ends: open tasks closed with a reason, aftermath tasks and the review's
//! deadline exist, the parent's record follows and its own commander ends it; a commitment
//! passes its deadline and its owner is told.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body, start};
use crate::notices::{Rig, reached, rig};
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const CITY_DUTY: &str = "demo-city-duty";
const CITY_COMMANDER: &str = "demo-city-commander";

/// The Linxiang example with an escalation policy: the deputies after 5 minutes, the parent's
/// office after 10, a reminder every 15 minutes.
const ESCALATION: &str = r#"

[[escalation]]
repeat_every = "15m"
repeat_times = 2

[[escalation.steps]]
after = "5m"
to = "deputy"

[[escalation.steps]]
after = "10m"
to = "parent_office"
"#;

fn linxiang_with_escalation() -> String {
    format!(
        "{}{ESCALATION}",
        include_str!("../../../../examples/plans/linxiang-city.toml")
    )
}

async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, body).await;
    assert!(s.is_success(), "{path} as {token}: {s} {v}");
    v
}

async fn get(app: &TestApp, path: &str, token: &str) -> Value {
    let (s, v) = app.get(path, token).await;
    assert_eq!(s, StatusCode::OK, "{path} as {token}: {v}");
    v
}

async fn calls(app: &TestApp, iid: &str, token: &str) -> Vec<Value> {
    get(app, &format!("/api/v1/incidents/{iid}/calls"), token).await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn recipients(call: &Value) -> Vec<String> {
    call["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["person"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn tick(app: &TestApp, rig: &Rig) {
    yingji_server::tick(&app.state).await.unwrap();
    rig.deliver().await;
}

/// The plan as the server stores it, checked like `plan check`.
fn plan_of(source: &str) -> yingji_plan::Plan {
    yingji_plan::load(source)
        .usable()
        .cloned()
        .expect("the plan loads without errors")
}

on_both! {
    a_response_reaches_everyone_the_plan_names => |app: TestApp| async move {
        let rig = rig(&app).await;
        let county = app.jurisdiction("临溪市").await;
        let source = linxiang_with_escalation();
        let v = ok(&app, "/api/v1/plans", DUTY, json!({"jurisdiction_id": county, "source": source})).await;
        assert_eq!(v["version"], 2, "{v}");
        let plan = plan_of(&source);

        // 120 people: Ⅱ proposed, activated at 10:00.
        let v = ok(&app, "/api/v1/incidents", DUTY, report_body(&app, 120).await).await;
        let iid = v["id"].as_str().unwrap().to_string();
        assert_eq!(v["plan_version"], 2);
        ok(&app, &format!("/api/v1/incidents/{iid}/verify"), DUTY, json!({})).await;
        let v = ok(&app, &format!("/api/v1/incidents/{iid}/assess"), COMMANDER, json!({})).await;
        assert_eq!(v["level"]["id"], "II");
        let inc = ok(&app, &format!("/api/v1/incidents/{iid}/activate"), COMMANDER, json!({})).await;
        rig.deliver().await;

        // Exactly the posts `plan simulate` lists for Ⅱ at that moment, with the same tasks and
        // deadlines.
        let sim = yingji_plan::response::simulate_with(
            &plan,
            &yingji_plan::Input { headcount: 120, venue: None, behaviours: &[] },
            &start(),
            None,
        );
        let live = calls(&app, &iid, DUTY).await;
        let live_posts: Vec<&str> = live.iter().map(|c| c["post"].as_str().unwrap()).collect();
        let sim_posts: Vec<&str> = sim.calls.iter().map(|c| c.post.as_str()).collect();
        assert_eq!(live_posts, sim_posts);
        for (c, s) in live.iter().zip(&sim.calls) {
            let lines = c["lines"].to_string();
            for t in &s.tasks {
                assert!(lines.contains(t.as_str()), "{} lacks the task {t}: {lines}", s.post);
            }
        }
        let mut live_tasks: Vec<(String, jiff::Timestamp)> = inc["tasks"].as_array().unwrap().iter()
            .filter(|t| t["first_response"] == false)
            .map(|t| (t["title"].as_str().unwrap().to_string(), t["due_at"].as_str().unwrap().parse().unwrap()))
            .collect();
        let mut sim_tasks: Vec<(String, jiff::Timestamp)> = sim.tasks.iter()
            .map(|t| (t.title.clone(), t.due_at.parse().unwrap()))
            .collect();
        live_tasks.sort();
        sim_tasks.sort();
        assert_eq!(live_tasks, sim_tasks);
        // …and the same reports owed upward, due at the same times.
        let mut live_reports: Vec<(String, String, jiff::Timestamp)> = inc["upward_reports"].as_array().unwrap().iter()
            .map(|r| (r["kind"].as_str().unwrap().to_string(), r["to"].as_str().unwrap().to_string(), r["due_at"].as_str().unwrap().parse().unwrap()))
            .collect();
        let mut sim_reports: Vec<(String, String, jiff::Timestamp)> = sim.reports.iter()
            .map(|r| (r.kind.as_str().to_string(), r.to.clone(), r.due_at.parse().unwrap()))
            .collect();
        live_reports.sort();
        sim_reports.sort();
        assert!(!sim_reports.is_empty());
        assert_eq!(live_reports, sim_reports);

        // The commanders, the office and the groups hear it, each as what they are called.
        let qian = app.person("钱立新").await;
        let sun = app.person("孙海燕").await;
        let zhou = app.person("周敏").await;
        let zheng = app.person("郑国平").await;
        let feng = app.person("冯磊").await;
        let zhao = app.person("赵文华").await;
        let he = app.person("何静怡").await;
        reached(&app, &rig, &qian, &["II级响应", "市委政法委书记", "指挥部组长"]).await;
        reached(&app, &rig, &sun, &["II级响应", "市政府分管副市长"]).await;
        reached(&app, &rig, &zhou, &["II级响应", "指挥部办公室", "接访对话组负责人"]).await;
        reached(&app, &rig, &zheng, &["II级响应", "现场秩序维护组负责人", "到达现场，维护秩序"]).await;
        // The level-Ⅰ commander is not called at Ⅱ.
        assert!(live_posts.iter().all(|p| *p != "party-deputy-secretary"));

        // Nobody acknowledges: after 5 minutes the deputies (冯磊 deputises for the police
        // post), after 10 the parent's office (云岭市's duty officer).
        app.advance_mins(5);
        tick(&app, &rig).await;
        rig.hook(&feng, &["升级通知", "市公安局政委", "II级响应"]);
        app.advance_mins(5);
        tick(&app, &rig).await;
        rig.hook(&he, &["升级通知", "上级办公室", "II级响应"]);
        let police = calls(&app, &iid, DUTY).await.into_iter()
            .find(|c| c["post"] == "police-commissar").unwrap();
        let reached_as: Vec<&str> = police["recipients"].as_array().unwrap().iter()
            .map(|r| r["reached_as"].as_str().unwrap()).collect();
        assert!(reached_as.contains(&"deputy") && reached_as.contains(&"parent_office"), "{police}");

        // 520 people at 10:12: Ⅰ proposed and accepted.
        app.advance_mins(2);
        let v = ok(&app, &format!("/api/v1/incidents/{iid}/updates"), DUTY, json!({"headcount": 520})).await;
        assert_eq!(v["regrade"]["to"]["id"], "I", "{v}");
        let v = ok(&app, &format!("/api/v1/incidents/{iid}/regrade/accept"), COMMANDER, json!({})).await;
        assert_eq!(v["level"]["id"], "I");
        let parent_id = v["parent_incident"].as_str().expect("a linked record in the parent").to_string();
        rig.deliver().await;
        // The level-Ⅰ addition is called; nobody already called is called again.
        let after = calls(&app, &iid, DUTY).await;
        let new: Vec<&Value> = after.iter().filter(|c| c["level"] == "I").collect();
        assert_eq!(new.len(), 1, "{new:?}");
        assert_eq!(new[0]["post"], "party-deputy-secretary");
        assert_eq!(recipients(new[0]), vec!["赵文华".to_string()]);
        reached(&app, &rig, &zhao, &["I级响应", "市委副书记"]).await;
        // The parent has a linked record at Ⅰ, and its office a call to acknowledge.
        let parent = get(&app, &format!("/api/v1/incidents/{parent_id}"), CITY_DUTY).await;
        assert_eq!(parent["kind"], "escalation");
        assert_eq!(parent["source_incident"], iid.as_str());
        assert_eq!(parent["level"]["id"], "I");
        assert_eq!(parent["headcount"], 520);
        let pcalls = calls(&app, &parent_id, CITY_DUTY).await;
        assert_eq!(pcalls.len(), 1, "{pcalls:?}");
        assert_eq!(recipients(&pcalls[0]), vec!["何静怡".to_string()]);
        reached(&app, &rig, &he, &["临溪市报请本级", "I级响应", "520"]).await;
        // The city's console shows the record with its source below, as it stands; the
        // county's shows its own record reported up.
        let city = crate::console::sign_in(&app, CITY_DUTY).await;
        let page = crate::console::req(&app, "GET", &format!("/incidents/{parent_id}"), &city, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("下级来源") && page.body.contains(&format!("/incidents/{iid}"))
            && page.body.contains("I 特别重大"), "{}", page.body);
        let county_page = crate::console::sign_in(&app, DUTY).await;
        let page = crate::console::req(&app, "GET", &format!("/incidents/{iid}"), &county_page, None).await;
        assert!(page.body.contains("已上报上级") && page.body.contains(&format!("/incidents/{parent_id}")), "{}", page.body);
        // The county cannot open the city's record.
        let (s, _) = app.get(&format!("/api/v1/incidents/{parent_id}"), DUTY).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // At 10:15 the first calls remind whoever has not acknowledged, naming the level in
        // force (Ⅰ), not the one they were placed at.
        app.advance_mins(3);
        tick(&app, &rig).await;
        let reminder = rig.hook(&sun, &["次提醒"]);
        let text = reminder["text"].as_str().unwrap();
        assert!(text.contains("I级响应") && !text.contains("II级响应"), "{text}");

        // The first report to 市委、市政府 is due at 10:30 (the plan's 30 minutes); nobody
        // sends it: at 10:31 it is late and the office head, who must send it, is told.
        app.advance_mins(16);
        tick(&app, &rig).await;
        let v = get(&app, &format!("/api/v1/incidents/{iid}"), DUTY).await;
        let first = v["upward_reports"].as_array().unwrap().iter()
            .find(|r| r["kind"] == "first" && r["to"] == "市委、市政府").expect("the first report is owed").clone();
        assert_eq!(first["due_at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap(),
            "2026-03-02T02:30:00Z".parse::<jiff::Timestamp>().unwrap());
        assert_eq!(first["late"], true, "{first}");
        reached(&app, &rig, &zhou, &["的首报（报市委、市政府）", "已逾期"]).await;

        // A commitment owned by the office head post, due tomorrow 10:00.
        ok(&app, &format!("/api/v1/incidents/{iid}/obligations"), DUTY,
            json!({"kind": "commitment", "text": "三日内公布工程款结算方案", "owner": "petition-bureau-director", "due_at": "2026-03-03T10:00:00+08:00"})).await;

        // The response ends at 11:00: open tasks closed with the reason, never done; the
        // aftermath's tasks and the review's deadline (7 days) exist.
        app.advance_mins(29);
        let v = ok(&app, &format!("/api/v1/incidents/{iid}/end"), COMMANDER,
            json!({"reason": "群众已散去", "open_tasks": "not_needed"})).await;
        assert_eq!(v["status"], "ended");
        let tasks = v["tasks"].as_array().unwrap();
        assert!(tasks.iter().filter(|t| t["aftermath"] == false && t["first_response"] == false)
            .all(|t| t["state"] == "closed" && t["closed_reason"] == "not_needed" && t["done_at"].is_null()), "{tasks:?}");
        assert!(tasks.iter().any(|t| t["aftermath"] == true && t["state"] == "open"));
        let review_due: jiff::Timestamp = v["review_due_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(review_due, "2026-03-09T03:00:00Z".parse::<jiff::Timestamp>().unwrap());
        // No call escalates any more.
        assert!(calls(&app, &iid, DUTY).await.iter().all(|c| c["closed"] == true));

        // The parent's record follows the end, and the city's own commander ends it.
        let parent = get(&app, &format!("/api/v1/incidents/{parent_id}"), CITY_DUTY).await;
        assert_eq!(parent["source"]["status"], "ended", "{parent}");
        let (s, v) = app.post(&format!("/api/v1/incidents/{parent_id}/end"), DUTY, json!({"reason": "x"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "the county cannot end the city's record: {v}");
        let v = ok(&app, &format!("/api/v1/incidents/{parent_id}/end"), CITY_COMMANDER,
            json!({"reason": "下级已妥善处置"})).await;
        assert_eq!(v["status"], "ended");
        let v = ok(&app, &format!("/api/v1/incidents/{parent_id}/close"), CITY_COMMANDER, json!({})).await;
        assert_eq!(v["status"], "closed");

        // The commitment passes its deadline: its owner (周敏 holds the post) is told.
        app.clock.set("2026-03-03T02:01:00Z".parse().unwrap());
        tick(&app, &rig).await;
        reached(&app, &rig, &zhou, &["承诺事项", "三日内公布工程款结算方案"]).await;
        assert_eq!(app.state.store.outbox_count("skipped").await.unwrap(), 0);
    };
}

on_both! {
    a_warning_reaches_the_people_of_its_level_and_so_does_its_lifting => |app: TestApp| async move {
        let rig = rig(&app).await;
        let v = ok(&app, "/api/v1/incidents", DUTY, report_body(&app, 120).await).await;
        let iid = v["id"].as_str().unwrap().to_string();
        ok(&app, &format!("/api/v1/incidents/{iid}/verify"), DUTY, json!({})).await;
        ok(&app, &format!("/api/v1/incidents/{iid}/assess"), COMMANDER, json!({})).await;
        let v = ok(&app, &format!("/api/v1/incidents/{iid}/warning"), DUTY, json!({})).await;
        assert_eq!(v["warning"]["id"], "II", "{v}");
        rig.deliver().await;
        // The level's commander, the office and the group leads are told; nobody is called.
        for name in ["钱立新", "周敏", "郑国平"] {
            let id = app.person(name).await;
            reached(&app, &rig, &id, &["已发布II级（重大）预警", "做好响应准备"]).await;
        }
        assert!(calls(&app, &iid, DUTY).await.is_empty());
        // Someone the level does not name hears nothing.
        let street = app.person("蒋雨桐").await;
        assert!(!rig.http.lock().unwrap().iter().any(|(p, b)| *p == format!("/hook/{street}")
            && b["text"].as_str().unwrap_or("").contains("预警")));
        app.advance_mins(20);
        ok(&app, &format!("/api/v1/incidents/{iid}/lift-warning"), DUTY, json!({"reason": "群众已由接访人员疏导离开"})).await;
        rig.deliver().await;
        let qian = app.person("钱立新").await;
        reached(&app, &rig, &qian, &["预警已解除", "群众已由接访人员疏导离开"]).await;
        assert_eq!(app.state.store.outbox_count("skipped").await.unwrap(), 0);
    };
}
