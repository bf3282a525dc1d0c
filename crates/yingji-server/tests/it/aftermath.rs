//! Aftermath and review (issue 17 item 4), as the people see it through the API and the
//! console: ending a response (or an unfounded report) closes the open tasks and calls with a
//! reason, never as done, and nothing closed turns overdue; the plan's aftermath duties and the
//! review's deadline come with the plan's times; the saved review shows its measured times in
//! the incident room; corrective actions are owned, due, turn overdue, are done and linked to a
//! plan revision; a task's acknowledgement answers the person's call on the desk.

use axum::http::{Method, StatusCode};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body, start};
use crate::offers::{console_session, page};
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const MEMBER: &str = "demo-group-member";
const STREET: &str = "demo-street-duty";
/// Holds a commander post of the plan's levels: may end a response.
const SECRETARY: &str = "demo-plac-secretary";

async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, body).await;
    assert!(s.is_success(), "{path} as {token}: {s} {v}");
    v
}

/// A reported, verified, assessed and activated incident, one step every `step` minutes.
async fn active(app: &TestApp, step: i64) -> String {
    let v = ok(app, "/api/v1/incidents", DUTY, report_body(app, 120).await).await;
    let iid = v["id"].as_str().unwrap().to_string();
    for (a, who) in [
        ("verify", DUTY),
        ("assess", COMMANDER),
        ("activate", COMMANDER),
    ] {
        app.advance_mins(step);
        ok(app, &format!("/api/v1/incidents/{iid}/{a}"), who, json!({})).await;
    }
    iid
}

async fn incident(app: &TestApp, iid: &str) -> Value {
    let (s, v) = app.get(&format!("/api/v1/incidents/{iid}"), DUTY).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn timeline(app: &TestApp, iid: &str) -> Vec<Value> {
    let (_, v) = app
        .get(&format!("/api/v1/incidents/{iid}/timeline"), DUTY)
        .await;
    v["items"].as_array().unwrap().clone()
}

async fn open_task_ids(app: &TestApp) -> Vec<String> {
    let (s, v) = app.get("/api/v1/tasks?state=open&limit=500", DUTY).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn ts(v: &Value) -> Timestamp {
    v.as_str()
        .unwrap_or_else(|| panic!("a time: {v}"))
        .parse()
        .unwrap()
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

async fn tick(app: &TestApp) {
    yingji_server::tick(&app.state).await.unwrap();
}

/// The desk's lines of unanswered calls of one incident, as the viewer's console shows them.
async fn desk_calls(app: &TestApp, cookie: &str, iid: &str) -> String {
    let (s, html) = page(app, Method::GET, "/", cookie, None).await;
    assert_eq!(s, StatusCode::OK);
    let from = html.find("id=\"desk-calls\"").expect("the desk's calls");
    let to = html[from..].find("</section>").unwrap() + from;
    html[from..to]
        .split("<li")
        .filter(|line| line.contains(&format!("/incidents/{iid}")))
        .collect::<Vec<_>>()
        .join("\n")
}

on_both! {
    ending_closes_the_open_tasks_and_calls_with_a_reason_and_starts_the_aftermath => |app: TestApp| async move {
        let iid = active(&app, 0).await;
        let before = incident(&app, &iid).await;
        let response_tasks: Vec<String> = before["tasks"].as_array().unwrap().iter()
            .map(|t| t["id"].as_str().unwrap().to_string()).collect();
        assert!(!response_tasks.is_empty());
        let open = open_task_ids(&app).await;
        assert!(response_tasks.iter().any(|t| open.contains(t)), "open before the end");

        let v = ok(&app, &format!("/api/v1/incidents/{iid}/end"), SECRETARY,
            json!({"reason": "群众已散去", "open_tasks": "handed_over"})).await;
        assert_eq!(v["status"], "ended");
        let ended = start();
        // The response's tasks are closed with the reason, never as done.
        for t in v["tasks"].as_array().unwrap().iter().filter(|t| response_tasks.contains(&t["id"].as_str().unwrap().to_string())) {
            assert_eq!(t["state"], "closed", "{t}");
            assert_eq!(t["closed_reason"], "handed_over", "{t}");
            assert!(t["done_at"].is_null(), "{t}");
        }
        let closed_events = timeline(&app, &iid).await.into_iter()
            .filter(|e| e["kind"] == "task_closed").count();
        assert_eq!(closed_events, response_tasks.len());
        // The task list no longer shows them open; the calls are closed with the reason.
        let open = open_task_ids(&app).await;
        assert!(!response_tasks.iter().any(|t| open.contains(t)), "closed tasks listed as open");
        let (_, calls) = app.get(&format!("/api/v1/incidents/{iid}/calls"), DUTY).await;
        let calls = calls["items"].as_array().unwrap();
        assert!(!calls.is_empty());
        for c in calls {
            assert_eq!(c["closed"], true, "{c}");
            assert_eq!(c["closed_reason"], "handed_over", "{c}");
        }

        // The plan's aftermath duties are tasks, due with the plan's times (7d), and the
        // review is due within `review_within` (7d).
        let week = ended.checked_add(days(7)).unwrap();
        assert_eq!(ts(&v["review_due_at"]), week);
        let duties: Vec<&Value> = v["tasks"].as_array().unwrap().iter().filter(|t| t["aftermath"] == true).collect();
        assert_eq!(duties.len(), 4, "{v}");
        for d in &duties {
            assert_eq!(ts(&d["due_at"]), week, "{d}");
            assert_eq!(d["state"], "open");
        }
        assert!(duties.iter().any(|d| d["title"] == "落实向上访群众承诺解决的问题" && d["post"] == "township-head"));
        let open = open_task_ids(&app).await;
        assert!(duties.iter().all(|d| open.contains(&d["id"].as_str().unwrap().to_string())));

        // A day later nothing closed has turned overdue.
        app.clock.advance(days(1));
        tick(&app).await;
        let v = incident(&app, &iid).await;
        for t in v["tasks"].as_array().unwrap() {
            assert_eq!(t["overdue"], false, "{t}");
        }
        assert!(!timeline(&app, &iid).await.iter().any(|e| e["kind"] == "task_overdue"));
        // The room shows the review's deadline, and after it the review is overdue.
        let cookie = console_session(&app, DUTY).await;
        let (_, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(html.contains("data-review-due"), "the review's deadline is shown");
        assert!(!html.contains("总结评估已超期"));
        app.clock.advance(days(7));
        tick(&app).await;
        let v = incident(&app, &iid).await;
        assert_eq!(v["review_overdue"], true, "{v}");
        assert!(timeline(&app, &iid).await.iter().any(|e| e["kind"] == "review_overdue"));
        // A week on, the console session has ended: sign in again.
        let cookie = console_session(&app, DUTY).await;
        let (_, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(html.contains("总结评估已超期"), "the overdue review is shown");
        // The aftermath's own tasks do turn overdue; the closed ones still do not.
        for t in v["tasks"].as_array().unwrap() {
            assert_eq!(t["overdue"], t["aftermath"], "{t}");
        }
    };

    an_unfounded_report_closes_its_tasks => |app: TestApp| async move {
        let v = ok(&app, "/api/v1/incidents", DUTY, report_body(&app, 30).await).await;
        let iid = v["id"].as_str().unwrap().to_string();
        let first: Vec<String> = v["tasks"].as_array().unwrap().iter()
            .map(|t| t["id"].as_str().unwrap().to_string()).collect();
        assert!(!first.is_empty(), "first-response tasks");
        let v = ok(&app, &format!("/api/v1/incidents/{iid}/unfounded"), DUTY,
            json!({"reason": "经核实，现场无人聚集"})).await;
        for t in v["tasks"].as_array().unwrap() {
            assert_eq!(t["state"], "closed", "{t}");
            assert_eq!(t["closed_reason"], "not_needed", "{t}");
        }
        let open = open_task_ids(&app).await;
        assert!(!first.iter().any(|t| open.contains(t)));
        app.advance_mins(24 * 60);
        tick(&app).await;
        let v = incident(&app, &iid).await;
        assert!(v["tasks"].as_array().unwrap().iter().all(|t| t["overdue"] == false), "{v}");
        // The desk does not show them.
        let cookie = console_session(&app, DUTY).await;
        let (_, html) = page(&app, Method::GET, "/", &cookie, None).await;
        for t in &first {
            assert!(!html.contains(t.as_str()));
        }
    };

    the_saved_review_shows_its_measured_times_and_corrective_actions_are_tracked => |app: TestApp| async move {
        // Reported, then verified, graded and activated five minutes apart.
        let iid = active(&app, 5).await;
        let inc = incident(&app, &iid).await;
        let mine = inc["tasks"].as_array().unwrap().iter()
            .find(|t| t["post"] == "police-commissar").unwrap()["id"].as_str().unwrap().to_string();
        app.advance_mins(7);
        ok(&app, &format!("/api/v1/tasks/{mine}/acknowledge"), MEMBER, json!({})).await;
        app.advance_mins(60);
        ok(&app, &format!("/api/v1/incidents/{iid}/end"), SECRETARY, json!({"reason": "群众已散去"})).await;
        // The review is available at once: the aftermath's tasks are still open.
        let zheng = app.person("郑国平").await;
        let due = app.clock_now_plus_days(10);
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/review"), COMMANDER, json!({
            "summary": "处置及时", "lessons": ["到岗偏慢"],
            "corrective_actions": [
                {"title": "完善夜间值班", "owner_post": "township-head", "due_at": due},
                {"title": "补充现场照明", "owner_person_id": zheng, "due_at": due}
            ]})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let m = &v["review"]["measured"];
        assert_eq!(m["report_to_verify_s"], 300, "{m}");
        assert_eq!(m["report_to_assess_s"], 600, "{m}");
        assert_eq!(m["assess_to_activate_s"], 300, "{m}");
        assert_eq!(m["activate_to_first_ack_s"], 420, "{m}");
        assert_eq!(m["activate_to_end_s"], 67 * 60, "{m}");
        let cas = v["review"]["corrective_actions"].as_array().unwrap().clone();
        assert_eq!(cas[0]["owner_post"], "township-head");
        assert_eq!(cas[1]["owner_person"]["name"], "郑国平");
        assert_eq!(cas[1]["owner"], "郑国平");
        let cid = cas[0]["id"].as_str().unwrap().to_string();

        // The room shows the saved review with its measured times to whoever may see it.
        let cookie = console_session(&app, DUTY).await;
        let (s, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(html.contains("id=\"room-review\""), "the review is shown");
        assert!(html.contains("处置及时") && html.contains("到岗偏慢"));
        assert!(html.contains("报告 → 定级") && html.contains("启动响应 → 首次签收"));
        assert_eq!(html.matches("data-measured").count(), 6);
        assert!(html.contains(&format!("data-corrective=\"{cid}\"")));
        let street = console_session(&app, STREET).await;
        let (s, _) = page(&app, Method::GET, &format!("/incidents/{iid}"), &street, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "out of scope");

        // Past its deadline the corrective action turns overdue (the ticker).
        app.clock.advance(days(11));
        tick(&app).await;
        let v = incident(&app, &iid).await;
        assert_eq!(v["review"]["corrective_actions"][0]["overdue"], true, "{v}");
        assert!(timeline(&app, &iid).await.iter().any(|e| e["kind"] == "corrective_action_overdue"));
        let cookie = console_session(&app, DUTY).await;
        let (_, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        let at = html.find(&format!("data-corrective=\"{cid}\"")).unwrap();
        assert!(html[..at].ends_with("class=\"late\" "), "shown as overdue");

        // Linked to the plan revision that answers it, then done (once).
        let at = |a: &str| format!("/api/v1/incidents/{iid}/corrective-actions/{cid}/{a}");
        let (s, v) = app.post(&at("link"), COMMANDER, json!({"plan_id": "no-such-plan", "version": 1})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        let v = ok(&app, &at("link"), COMMANDER, json!({"plan_id": "linxiang-city-mass-petition", "version": 1})).await;
        assert_eq!(v["review"]["corrective_actions"][0]["plan_revision"]["version"], 1);
        let v = ok(&app, &at("done"), COMMANDER, json!({})).await;
        assert_eq!(v["review"]["corrective_actions"][0]["done"], true);
        let (s, v) = app.post(&at("done"), COMMANDER, json!({})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("already_fulfilled")), "{v}");
        let other = format!("/api/v1/incidents/{iid}/corrective-actions/{}/done", uuid::Uuid::now_v7());
        let (s, v) = app.post(&other, COMMANDER, json!({})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("unknown_corrective_action")), "{v}");
        // The console does the same through the same command: the second one, done there.
        let cid2 = cas[1]["id"].as_str().unwrap().to_string();
        let ccookie = console_session(&app, COMMANDER).await;
        let (_, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &ccookie, None).await;
        assert!(html.contains("/do/corrective-done"), "offered to the commander");
        let csrf = crate::offers::csrf_of(&html);
        let (s, _) = page(&app, Method::POST, &format!("/incidents/{iid}/do/corrective-done"), &ccookie,
            Some(format!("csrf={csrf}&corrective={cid2}"))).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let v = incident(&app, &iid).await;
        assert_eq!(v["review"]["corrective_actions"][1]["done"], true);
    };

    the_console_saves_a_review_through_the_same_command => |app: TestApp| async move {
        let iid = active(&app, 0).await;
        ok(&app, &format!("/api/v1/incidents/{iid}/end"), SECRETARY, json!({"reason": "群众已散去"})).await;
        let cookie = console_session(&app, COMMANDER).await;
        let (_, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(html.contains("/do/review"), "the review is offered once the response has ended");
        let zheng = app.person("郑国平").await;
        assert!(html.contains(&format!("person:{zheng}")), "a person may own a corrective action");
        let csrf = crate::offers::csrf_of(&html);
        let form = format!(
            "csrf={csrf}&summary=%E5%A4%84%E7%BD%AE%E5%8F%8A%E6%97%B6&ca_title=%E5%AE%8C%E5%96%84%E5%80%BC%E7%8F%AD&ca_owner=person:{zheng}&ca_due=2026-03-20T10:00"
        );
        let (s, body) = page(&app, Method::POST, &format!("/incidents/{iid}/do/review"), &cookie, Some(form)).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
        let v = incident(&app, &iid).await;
        assert_eq!(v["status"], "reviewed");
        let ca = &v["review"]["corrective_actions"][0];
        assert_eq!(ca["owner_person"]["name"], "郑国平", "{ca}");
        assert_eq!(ts(&ca["due_at"]), "2026-03-20T02:00:00Z".parse::<Timestamp>().unwrap());
        let (_, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(html.contains("id=\"room-review\""));
    };

    a_task_acknowledgement_answers_the_call_on_the_desk => |app: TestApp| async move {
        let iid = active(&app, 0).await;
        let cookie = console_session(&app, DUTY).await;
        assert!(desk_calls(&app, &cookie, &iid).await.contains("郑国平"), "waiting for 郑国平");
        let inc = incident(&app, &iid).await;
        let tasks = inc["tasks"].as_array().unwrap();
        let mine = tasks.iter().find(|t| t["post"] == "police-commissar").unwrap()["id"].as_str().unwrap().to_string();
        ok(&app, &format!("/api/v1/tasks/{mine}/acknowledge"), MEMBER, json!({})).await;
        let (_, calls) = app.get(&format!("/api/v1/incidents/{iid}/calls"), DUTY).await;
        let call = calls["items"].as_array().unwrap().iter().find(|c| c["post"] == "police-commissar").unwrap().clone();
        assert_eq!(call["answered"], true, "{call}");
        assert_eq!(call["recipients"][0]["ack_channel"], "task", "{call}");
        assert!(!desk_calls(&app, &cookie, &iid).await.contains("郑国平"), "no longer waiting for 郑国平");

        // The duty officer signs another post's task for its holder: recorded as on their behalf.
        let duty = app.person("王晓明").await;
        let other = tasks.iter().find(|t| {
            t["post"] != "police-commissar" && t["first_response"] == false
                && !t["assignees"].as_array().unwrap().is_empty()
                && t["assignees"].as_array().unwrap().iter().all(|a| a["person_id"] != duty.as_str())
        }).expect("a task of another post").clone();
        let holder = other["assignees"][0]["name"].as_str().unwrap().to_string();
        let v = ok(&app, &format!("/api/v1/tasks/{}/acknowledge", other["id"].as_str().unwrap()), DUTY, json!({})).await;
        let t = v["tasks"].as_array().unwrap().iter().find(|t| t["id"] == other["id"]).unwrap().clone();
        assert_eq!(t["acknowledged_for"][0]["name"], holder.as_str(), "{t}");
        let ack = timeline(&app, &iid).await.into_iter()
            .find(|e| e["kind"] == "call_acknowledged" && e["payload"]["person"]["name"] == holder.as_str())
            .expect("the holder's call acknowledged");
        assert!(ack["payload"]["by"]["name"].is_string(), "signed by the duty officer: {ack}");
        assert!(!desk_calls(&app, &cookie, &iid).await.contains(holder.as_str()));
    };
}
