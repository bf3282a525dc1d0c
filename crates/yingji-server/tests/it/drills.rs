//! Drills (issue 23 item 1), as the people in them see it: a script of five timed injects plays
//! on schedule (the manual clock) against a drill incident on the same engine; every message
//! about it carries the drill mark and reaches a real local receiver; the evaluation reports the
//! measured times against the plan's limits; a corrective action turns overdue when its
//! deadline passes; a script with errors is refused with file:line:col; the plan's cadence owes
//! a drill per period and the office is reminded.

use axum::http::StatusCode;
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::harness::TestApp;
use crate::notices::rig;
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const SCRIPT: &str = include_str!("../../../../examples/drills/linxiang-annual.toml");

async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, body).await;
    assert!(s.is_success(), "{path} as {token}: {s} {v}");
    v
}

async fn tick(app: &TestApp) {
    yingji_server::tick(&app.state).await.unwrap();
}

async fn drill(app: &TestApp, id: &str) -> Value {
    let (s, v) = app.get(&format!("/api/v1/drills/{id}"), DUTY).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn incident(app: &TestApp, id: &str) -> Value {
    let (s, v) = app.get(&format!("/api/v1/incidents/{id}"), DUTY).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn outcomes(d: &Value) -> Vec<String> {
    d["injects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap().to_string())
        .collect()
}

on_both! {
    a_script_of_five_injects_plays_on_schedule_and_is_evaluated => |app: TestApp| async move {
        let rig = rig(&app).await;
        let (s, d) = app.post("/api/v1/drills", DUTY, json!({"script": SCRIPT, "file_name": "linxiang-annual.toml"})).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let id = d["id"].as_str().unwrap().to_string();
        let iid = d["incident_id"].as_str().unwrap().to_string();
        assert_eq!(d["status"], "running");
        assert_eq!(outcomes(&d), vec!["pending"; 5]);
        let inc = incident(&app, &iid).await;
        assert_eq!(inc["drill"], true, "the drill incident is marked");
        assert_eq!(inc["headcount"], 35);

        // The players verify, grade and activate, two minutes apart.
        for (a, who) in [("verify", DUTY), ("assess", COMMANDER), ("activate", COMMANDER)] {
            app.advance_mins(2);
            ok(&app, &format!("/api/v1/incidents/{iid}/{a}"), who, json!({})).await;
        }
        // +6 min: nothing is due yet.
        tick(&app).await;
        assert_eq!(outcomes(&drill(&app, &id).await), vec!["pending"; 5]);

        // +10 min: the headcount inject.
        app.advance_mins(4);
        tick(&app).await;
        let d = drill(&app, &id).await;
        assert_eq!(outcomes(&d)[..2], ["played", "pending"]);
        assert_eq!(incident(&app, &iid).await["headcount"], 70, "the inject reached the incident");
        // +25 min: the message inject, to the petition bureau's director (周敏).
        app.advance_mins(15);
        tick(&app).await;
        // +40 and +50 min: behaviours and location; +90 min: the end.
        app.advance_mins(15);
        tick(&app).await;
        app.advance_mins(10);
        tick(&app).await;
        let inc = incident(&app, &iid).await;
        assert_eq!(inc["location"], "市政府东门信访接待室外");
        assert!(inc["behaviours"].as_array().unwrap().iter().any(|b| b == "blocking-traffic"), "{}", inc["behaviours"]);
        assert_eq!(drill(&app, &id).await["status"], "running");
        app.advance_mins(40);
        tick(&app).await;
        let d = drill(&app, &id).await;
        assert_eq!(outcomes(&d), vec!["played"; 5], "{d}");
        assert_eq!(d["status"], "ended");
        // Each played at its time after the start.
        let start: jiff::Timestamp = d["started_at"].as_str().unwrap().parse().unwrap();
        for (i, mins) in [10, 25, 40, 50, 90].iter().enumerate() {
            let at: jiff::Timestamp = d["injects"][i]["played_at"].as_str().unwrap().parse().unwrap();
            assert_eq!(at.duration_since(start), SignedDuration::from_mins(*mins), "inject {i}");
        }
        let inc = incident(&app, &iid).await;
        assert_ne!(inc["status"], "active", "the end inject ended the response: {}", inc["status"]);

        // The timeline shows every inject, marked.
        let (_, tl) = app.get(&format!("/api/v1/incidents/{iid}/timeline"), DUTY).await;
        let marked = tl["items"].as_array().unwrap().iter()
            .filter(|e| e.to_string().contains("【演练注入】")).count();
        assert!(marked >= 5, "{marked} marked inject events in the timeline");

        // Every message about the drill carries the mark; the message inject reached 周敏.
        rig.deliver().await;
        let zhou = app.person("周敏").await;
        let m = rig.hook(&zhou, &["接访场地的值班电话暂时无人接听"]);
        assert!(m["subject"].as_str().unwrap().starts_with("【演练】"), "{m}");
        assert!(m["text"].as_str().unwrap().starts_with("【演练】"), "{m}");
        let got = rig.http.lock().unwrap().clone();
        let about: Vec<&Value> = got.iter().map(|(_, b)| b)
            .filter(|b| b.to_string().contains(&iid) || b.to_string().contains("安置小区住户聚集"))
            .collect();
        assert!(about.len() >= 3, "calls and the inject reached people: {}", about.len());
        for b in &about {
            assert!(b["text"].as_str().unwrap_or("").starts_with("【演练】"), "unmarked: {b}");
        }

        // The evaluation: the times measured against the plan's limits, a corrective action.
        let due = app.clock_now_plus_days(7);
        let (s, v) = app.post(&format!("/api/v1/drills/{id}/evaluation"), COMMANDER, json!({
            "summary": "信息报送及时，备用联络渠道未提前公布",
            "lessons": ["备用号码应写入值班表"],
            "corrective_actions": [{"title": "公布备用联络号码", "owner_post": "petition-bureau-director", "due_at": due}]
        })).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["status"], "evaluated");
        let measures = v["evaluation"]["measures"].as_array().unwrap();
        let activation = measures.iter().find(|m| m["what"] == "接报至启动响应").unwrap();
        assert_eq!(activation["measured_s"], 6 * 60, "{activation}");
        let limited: Vec<&Value> = measures.iter().filter(|m| m["limit_s"].is_i64()).collect();
        assert!(!limited.is_empty(), "the plan's limits are measured against: {measures:?}");
        for m in &limited {
            let met = m["met"].as_bool().unwrap();
            let within = m["measured_s"].as_i64().is_some_and(|s| s <= m["limit_s"].as_i64().unwrap());
            assert_eq!(met, within, "{m}");
        }
        // Evaluated once.
        let (s, _) = app.post(&format!("/api/v1/drills/{id}/evaluation"), COMMANDER, json!({"summary": "again"})).await;
        assert_eq!(s, StatusCode::CONFLICT);

        // The corrective action turns overdue when its deadline passes.
        let ca = |inc: &Value| inc["review"]["corrective_actions"][0].clone();
        assert_eq!(ca(&incident(&app, &iid).await)["overdue"], false);
        app.clock.advance(SignedDuration::from_hours(24 * 8));
        tick(&app).await;
        let c = ca(&incident(&app, &iid).await);
        assert_eq!(c["title"], "公布备用联络号码");
        assert_eq!(c["overdue"], true, "{c}");

        // The plan's yearly drill is done for this year.
        let (s, sched) = app.get("/api/v1/drills/schedule", DUTY).await;
        assert_eq!(s, StatusCode::OK);
        let duty = sched.as_array().unwrap().iter()
            .find(|x| x["plan_id"] == "linxiang-city-mass-petition" && x["period_start"] == "2026-01-01")
            .unwrap_or_else(|| panic!("{sched}"));
        assert_eq!(duty["status"], "done", "{duty}");
        assert_eq!(duty["drill_id"], id.as_str());
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty());
    };

    a_script_with_errors_is_refused_with_its_place => |app: TestApp| async move {
        let bad = SCRIPT.replace("headcount = 70", "headcount = \"many\"").replace("kind = \"location\"", "kind = \"teleport\"");
        let before = app.event_count().await;
        let (s, v) = app.post("/api/v1/drills", DUTY, json!({"script": bad, "file_name": "bad.toml"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["error"]["code"], "plan_check_failed", "{v}");
        let diags = v["error"]["details"]["diagnostics"].as_array().unwrap();
        assert!(diags.len() >= 2, "every problem: {diags:?}");
        let line = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
        assert!(diags.iter().any(|d| d["line"] == line("\"many\"")), "{diags:?}");
        assert!(diags.iter().any(|d| d["line"] == line("teleport")), "{diags:?}");
        assert!(v["error"]["message"].as_str().unwrap().contains("bad.toml:"), "{v}");
        // A script that asks to watch petitioners is refused as a plan would be.
        let scope = SCRIPT.replace("检验信息报送与备用联络渠道", "安排人员跟踪上访人员行踪");
        let (s, v) = app.post("/api/v1/drills", DUTY, json!({"script": scope})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["details"]["diagnostics"].to_string().contains("P05"), "{v}");
        assert_eq!(app.event_count().await, before, "nothing written");
        // Outside one's area, and without the right: refused.
        let (s, _) = app.post("/api/v1/drills", "demo-group-member", json!({"script": SCRIPT})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    };

    a_drill_owed_this_year_reminds_the_office => |app: TestApp| async move {
        let rig = rig(&app).await;
        let (_, sched) = app.get("/api/v1/drills/schedule", DUTY).await;
        let duty = sched.as_array().unwrap().iter()
            .find(|x| x["plan_id"] == "linxiang-city-mass-petition").unwrap().clone();
        assert_eq!(duty["status"], "due", "{duty}");
        assert_eq!(duty["period_end"], "2026-12-31");
        // Thirty days before the year's end the office is reminded, once.
        let now = app.state.clock.now();
        let target: jiff::Timestamp = "2026-12-05T02:00:00Z".parse().unwrap();
        app.clock.advance(target.duration_since(now));
        tick(&app).await;
        app.advance_mins(2);
        tick(&app).await;
        rig.deliver().await;
        let got = rig.http.lock().unwrap().clone();
        let reminders: Vec<&Value> = got.iter().map(|(_, b)| b)
            .filter(|b| b["subject"].as_str().unwrap_or("").contains("演练提醒"))
            .collect();
        assert!(!reminders.is_empty(), "the office was reminded");
        let people: std::collections::HashSet<String> = got.iter()
            .filter(|(_, b)| b["subject"].as_str().unwrap_or("").contains("演练提醒"))
            .map(|(p, _)| p.clone()).collect();
        assert_eq!(reminders.len(), people.len(), "once per person: {reminders:?}");
        assert!(reminders[0]["text"].as_str().unwrap().contains("2026-12-31"), "{}", reminders[0]);
        let (_, sched) = app.get("/api/v1/drills/schedule", DUTY).await;
        assert!(sched.to_string().contains("due_soon"), "{sched}");
    };
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoding(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

on_both! {
    the_console_starts_a_drill_shows_its_problems_and_offers_what_each_may_do => |app: TestApp| async move {
        use crate::offers::{console_session, csrf_of, page};
        use axum::http::Method;
        let cookie = console_session(&app, DUTY).await;
        let (s, html) = page(&app, Method::GET, "/drills", &cookie, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("data-action=\"drill-start\""), "the duty officer may start one");
        let textarea = &html[html.find("id=\"dr-script\"").expect("the script box")..];
        assert!(textarea.contains("linxiang-city-mass-petition") && textarea.contains("[[injects]]"), "a template for the plan");
        let csrf = csrf_of(&html);
        // A script with a problem comes back with its line and column; nothing is started.
        let bad = SCRIPT.replace("kind = \"location\"", "kind = \"teleport\"");
        let bad_line = bad.lines().position(|l| l.contains("teleport")).unwrap() + 1;
        let (s, html) = page(&app, Method::POST, "/drills/start", &cookie,
            Some(form(&[("csrf", &csrf), ("script", &bad)]))).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(html.contains(&format!("data-line=\"{bad_line}\"")), "the problem's line is shown");
        assert!(html.contains("teleport"), "the script is kept in the form");
        let (_, drills) = app.get("/api/v1/drills", DUTY).await;
        assert_eq!(drills.as_array().unwrap().len(), 0);
        // A good script starts the drill and opens its page.
        let (s, _) = page(&app, Method::POST, "/drills/start", &cookie,
            Some(form(&[("csrf", &csrf), ("script", SCRIPT)]))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let (_, drills) = app.get("/api/v1/drills", DUTY).await;
        let id = drills[0]["id"].as_str().unwrap().to_string();
        let (s, html) = page(&app, Method::GET, &format!("/drills/{id}"), &cookie, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(html.matches("data-inject=").count(), 5);
        assert!(html.contains("data-action=\"drill-stop\""));
        assert!(!html.contains("data-action=\"drill-evaluate\""), "not before it ends");
        // The drill incident's room is marked and links its drill.
        let iid = drills[0]["incident_id"].as_str().unwrap().to_string();
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(room.contains("badge drill"), "the room is marked 演练");
        assert!(room.contains(&format!("/drills/{id}")), "the room links its drill");
        // A group member sees the drill but is offered nothing.
        let member = console_session(&app, "demo-group-member").await;
        let (_, html) = page(&app, Method::GET, "/drills", &member, None).await;
        assert!(!html.contains("data-action=\"drill-start\""));
        let (_, html) = page(&app, Method::GET, &format!("/drills/{id}"), &member, None).await;
        assert!(!html.contains("data-action=\"drill-stop\""));
        // The English console.
        let (_, html) = page(&app, Method::GET, &format!("/drills/{id}?lang=en"), &cookie, None).await;
        assert!(html.contains("Injects"), "English labels");
    };

    a_plan_revision_owed_each_period_is_tracked_and_reminded => |app: TestApp| async move {
        let rig = rig(&app).await;
        let county = app.jurisdiction("临溪市").await;
        let (_, plan) = app.get("/api/v1/plans/linxiang-city-mass-petition", DUTY).await;
        let src = plan["source"].as_str().unwrap().to_string();
        // As the demo loads it (`as-required`), nothing is owed.
        let (s, sched) = app.get("/api/v1/plan-revisions/schedule", DUTY).await;
        assert_eq!(s, StatusCode::OK, "{sched}");
        assert!(!sched.to_string().contains("linxiang-city-mass-petition"), "{sched}");
        // A version that asks for a revision every quarter, loaded in the first quarter: done.
        let quarterly = src.replace("[review]\nevery = \"as-required\"", "[review]\nevery = \"quarter\"");
        assert_ne!(quarterly, src);
        let (s, v) = app.post("/api/v1/plans", DUTY, json!({"jurisdiction_id": county, "source": quarterly})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let duty = |sched: &Value, start: &str| sched.as_array().unwrap().iter()
            .find(|x| x["plan_id"] == "linxiang-city-mass-petition" && x["period_start"] == start)
            .cloned().unwrap_or_else(|| panic!("{start}: {sched}"));
        let (_, sched) = app.get("/api/v1/plan-revisions/schedule", DUTY).await;
        let q1 = duty(&sched, "2026-01-01");
        assert_eq!((q1["status"].clone(), q1["plan_version"].clone(), q1["duty"].clone()), (json!("done"), json!(2), json!("revision")), "{q1}");
        assert_eq!(q1["period_end"], "2026-03-31");
        // Early July: the second quarter passed without a revised version.
        let now = app.state.clock.now();
        let target: jiff::Timestamp = "2026-07-02T02:00:00Z".parse().unwrap();
        app.clock.advance(target.duration_since(now));
        let (_, sched) = app.get("/api/v1/plan-revisions/schedule", DUTY).await;
        assert_eq!(duty(&sched, "2026-04-01")["status"], "overdue", "{sched}");
        assert_eq!(duty(&sched, "2026-07-01")["status"], "due", "{sched}");
        tick(&app).await;
        app.advance_mins(2);
        tick(&app).await;
        rig.deliver().await;
        let got = rig.http.lock().unwrap().clone();
        let overdue: Vec<&(String, Value)> = got.iter()
            .filter(|(_, b)| b["subject"].as_str().unwrap_or("").contains("预案修订逾期"))
            .collect();
        assert!(!overdue.is_empty(), "the office was told: {got:?}");
        let people: std::collections::HashSet<&String> = overdue.iter().map(|(p, _)| p).collect();
        assert_eq!(overdue.len(), people.len(), "once per person: {overdue:?}");
        let text = overdue[0].1["text"].as_str().unwrap();
        assert!(text.contains("临溪市群体性上访事件应急预案") && text.contains("2026-06-30"), "{text}");
        // The plans page shows it to the office.
        let cookie = crate::offers::console_session(&app, DUTY).await;
        let (s, html) = crate::offers::page(&app, axum::http::Method::GET, "/plans", &cookie, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("id=\"plan-revisions\"") && html.contains("data-duty-status=\"overdue\""), "{html}");
        // A revised version loaded in the third quarter fulfils it.
        let revised = quarterly.replace("对预案进行修订和完善", "每季度对预案进行评估修订");
        assert_ne!(revised, quarterly);
        let (s, v) = app.post("/api/v1/plans", DUTY, json!({"jurisdiction_id": county, "source": revised})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (_, sched) = app.get("/api/v1/plan-revisions/schedule", DUTY).await;
        let q3 = duty(&sched, "2026-07-01");
        assert_eq!((q3["status"].clone(), q3["plan_version"].clone()), (json!("done"), json!(3)), "{q3}");
        // A street's duty officer, below the city, is not shown the city's plan.
        let (s, v) = app.get("/api/v1/plan-revisions/schedule", "demo-street-duty").await;
        assert!(s == StatusCode::FORBIDDEN || (s == StatusCode::OK && !v.to_string().contains("linxiang-city-mass-petition")), "{s} {v}");
    };
}
