//! A village's grid worker in the console (issue 19): the scheduled report (零报告) their post
//! owes today and the screening return their village owes the township, each sent from a form
//! and seen by the township's office on its pages; the same commands and checks as the API.
//!
//! The tests' day (2026-03-02) falls in the two-sessions period of 青石镇's holiday plan, whose
//! daily report is owed by `village-heads`, held in 枫林村 by the demo's 黎春梅.

use axum::http::StatusCode;
use serde_json::json;

use crate::console::{csrf_of, req, sign_in};
use crate::harness::TestApp;
use crate::on_both;

const SCHEDULE: &str = "daily-two-sessions";

/// The part of a page from the element with this id to the end of its section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let Some(at) = html.find(&format!("id=\"{id}\"")) else {
        return "";
    };
    let rest = &html[at..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The RFC 3339 due time the page's form sends back.
fn due_of(html: &str) -> String {
    let at = html
        .find("name=\"due_at\" value=\"")
        .expect("a due_at field")
        + 21;
    let rest = &html[at..];
    rest[..rest.find('"').unwrap()].to_string()
}

on_both! {
    a_grid_worker_sends_the_daily_report_and_the_office_reads_it => |app: TestApp| async move {
        let worker = sign_in(&app, "demo-grid-worker").await;
        let desk = req(&app, "GET", "/", &worker, None).await;
        assert_eq!(desk.status, StatusCode::OK);
        let mine = section(&desk.body, "desk-mine");
        assert!(mine.contains(&format!("data-my-report=\"{SCHEDULE}\"")), "the report owed is on the desk: {mine}");
        assert!(mine.contains("href=\"/reports\""));

        let page = req(&app, "GET", "/reports", &worker, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let owed = section(&page.body, "reports-owed");
        assert!(owed.contains(&format!("data-report-slot=\"{SCHEDULE}\" data-report-state=\"pending\"")), "{owed}");
        assert!(owed.contains("“两会”期间每日信访情况报告（零报告）"));
        for f in ["矛盾纠纷排查化解情况", "信访事项及处理情况", "需镇协调解决的问题"] {
            assert!(owed.contains(&format!("name=\"f.{f}\"")), "a text for the field {f}");
        }
        assert!(owed.contains("data-action=\"nil-report\""), "the schedule allows a nil report");
        let csrf = csrf_of(&page.body);
        let due = due_of(owed);

        // A field the schedule does not have is refused through the API, saying which.
        let (s, v) = app.post("/api/v1/reports/submissions", "demo-grid-worker", json!({
            "plan_id": "town-holiday-period", "schedule_id": SCHEDULE, "due_at": due,
            "fields": {"上访人员去向": "x"}})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field")), "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("上访人员去向"), "{v}");

        // The township's duty officer owes nothing but sees 枫林村 still to report.
        let office = sign_in(&app, "demo-town-duty").await;
        let board = req(&app, "GET", "/reports", &office, None).await;
        assert!(!board.body.contains("data-report-slot="), "the office holds no post that owes it");
        assert!(board.body.contains("枫林村") && board.body.contains("data-board-state=\"pending\""), "{}", board.body);

        // Sent from the form, by the schedule's fields.
        let r = req(&app, "POST", "/reports/submit", &worker, Some(&form(&[
            ("csrf", &csrf), ("plan_id", "town-holiday-period"), ("schedule_id", SCHEDULE), ("due_at", &due),
            ("f.矛盾纠纷排查化解情况", "排查纠纷2起，已化解1起"), ("f.信访事项及处理情况", ""),
            ("f.需镇协调解决的问题", "村道排水沟需镇里协调疏通"), ("content", ""),
        ]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = req(&app, "GET", "/reports", &worker, None).await;
        let owed = section(&page.body, "reports-owed");
        assert!(owed.contains("data-report-state=\"submitted\""), "{owed}");
        assert!(!owed.contains("data-action=\"submit-report\""), "nothing more to send");
        let desk = req(&app, "GET", "/", &worker, None).await;
        assert!(!desk.body.contains("data-my-report="), "no longer waiting on the desk");

        // The office reads what was sent, by field.
        let board = req(&app, "GET", "/reports", &office, None).await;
        assert!(board.body.contains("data-board-state=\"submitted\""), "{}", board.body);
        assert!(board.body.contains("【矛盾纠纷排查化解情况】排查纠纷2起，已化解1起"), "{}", board.body);
        assert!(board.body.contains("【需镇协调解决的问题】村道排水沟需镇里协调疏通"));
        assert!(!board.body.contains("【信访事项及处理情况】"), "an empty field is left out");
        let (s, b) = app.get("/api/v1/reports/board?plan_id=town-holiday-period", "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let row = b["items"].as_array().unwrap().iter().find(|r| r["schedule_id"] == SCHEDULE).unwrap();
        assert_eq!(row["state"], "submitted");
        assert!(row["content"].as_str().unwrap().contains("村道排水沟"), "{row}");

        // Sent twice: refused in words, nothing changes.
        let r = req(&app, "POST", "/reports/submit", &worker, Some(&form(&[
            ("csrf", &csrf), ("plan_id", "town-holiday-period"), ("schedule_id", SCHEDULE), ("due_at", &due), ("nil", "yes"),
        ]))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

        // The next day: nothing to report, in one tap.
        app.advance_mins(24 * 60);
        // (a day later both sessions have lapsed: signed in again)
        let worker = sign_in(&app, "demo-grid-worker").await;
        let office = sign_in(&app, "demo-town-duty").await;
        let page = req(&app, "GET", "/reports", &worker, None).await;
        let owed = section(&page.body, "reports-owed");
        assert!(owed.contains("data-report-state=\"pending\""), "{owed}");
        let due2 = due_of(owed);
        assert_ne!(due, due2);
        let r = req(&app, "POST", "/reports/submit", &worker, Some(&form(&[
            ("csrf", &csrf_of(&page.body)), ("plan_id", "town-holiday-period"), ("schedule_id", SCHEDULE), ("due_at", &due2), ("nil", "yes"),
        ]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let board = req(&app, "GET", "/reports", &office, None).await;
        assert!(board.body.contains("data-board-state=\"nil\"") && board.body.contains("已报零报告"), "{}", board.body);
    };

    a_grid_worker_sends_the_village_screening_return => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let worker = sign_in(&app, "demo-grid-worker").await;
        // No round open above: no form.
        let page = req(&app, "GET", "/disputes", &worker, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(!page.body.contains("id=\"screening-return\""));

        let (s, round) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town})).await;
        assert_eq!(s, StatusCode::CREATED, "{round}");
        let rid = round["id"].as_str().unwrap();

        let desk = req(&app, "GET", "/", &worker, None).await;
        assert!(section(&desk.body, "desk-mine").contains("data-my-return="), "the return owed is on the desk");
        let page = req(&app, "GET", "/disputes", &worker, None).await;
        let ret = section(&page.body, "screening-return");
        assert!(ret.contains("data-return-state=\"missing\""), "{ret}");
        assert!(ret.contains("向青石镇报送排查情况"), "{ret}");
        assert!(ret.contains(&format!("action=\"/disputes/rounds/{rid}/return\"")));
        let csrf = csrf_of(&page.body);
        let unit = app.jurisdiction("枫林村").await;

        // A count that is not a number: refused, nothing recorded.
        let r = req(&app, "POST", &format!("/disputes/rounds/{rid}/return"), &worker,
            Some(&form(&[("csrf", &csrf), ("unit_id", &unit), ("disputes_found", "两起")]))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let (_, v) = app.get(&format!("/api/v1/disputes/rounds/{rid}"), "demo-town-duty").await;
        assert_eq!(v["units"][0]["state"], "missing", "{v}");

        // Nothing found, in one tap.
        let r = req(&app, "POST", &format!("/disputes/rounds/{rid}/return"), &worker,
            Some(&form(&[("csrf", &csrf), ("unit_id", &unit), ("nil", "yes")]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = req(&app, "GET", "/disputes", &worker, None).await;
        assert!(section(&page.body, "screening-return").contains("data-return-state=\"nil\""));
        let desk = req(&app, "GET", "/", &worker, None).await;
        assert!(!desk.body.contains("data-my-return="));

        // The township's office sees 枫林村's nil return in its round.
        let office = sign_in(&app, "demo-town-duty").await;
        let page = req(&app, "GET", "/disputes", &office, None).await;
        let round = section(&page.body, "screening-round");
        assert!(round.contains("枫林村") && round.contains("data-unit-state=\"nil\""), "{round}");
    };
}

on_both! {
    a_dispute_is_registered_and_worked_to_its_close_in_the_console => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let office = sign_in(&app, "demo-town-duty").await;
        let page = req(&app, "GET", "/disputes", &office, None).await;
        assert!(page.body.contains("data-action=\"register-dispute\""), "{}", page.body);
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", "/disputes/new", &office, Some(&form(&[
            ("csrf", &csrf), ("title", "测试：两户宅基地界址纠纷"), ("parties", "甲户：申请方\n乙户：被申请方"),
            ("nature", "宅基地"), ("area", "青石镇枫林村三组"), ("risk", "major"), ("summary", "围墙位置有争议"),
        ]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let url = r.location.clone().unwrap();
        let id = url.trim_start_matches("/disputes/").to_string();
        let page = req(&app, "GET", &url, &office, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("甲户（申请方）") && page.body.contains("乙户（被申请方）"));
        assert!(page.body.contains("data-action=\"assign\"") && !page.body.contains("data-action=\"close\""), "only what the domain takes now");
        let (_, v) = app.get(&format!("/api/v1/disputes/{id}"), "demo-town-duty").await;
        assert_eq!((v["jurisdiction_id"].as_str(), v["risk"].as_str(), v["status"].as_str()), (Some(town.as_str()), Some("major"), Some("registered")), "{v}");

        for (action, pairs) in [
            ("assign", vec![("unit", "青石镇司法所"), ("due_on", "2026-03-20")]),
            ("report-upward", vec![("reason", "涉及多户，协调难度大")]),
            ("result", vec![("resolved", "yes"), ("result", "双方签订调解协议")]),
            ("follow-up", vec![("note", "回访双方，协议已履行")]),
            ("close", vec![]),
        ] {
            let page = req(&app, "GET", &url, &office, None).await;
            assert!(page.body.contains(&format!("data-action=\"{action}\"")), "{action} offered: {}", page.body);
            let mut all = vec![("csrf", csrf.as_str())];
            all.extend(pairs);
            let r = req(&app, "POST", &format!("/disputes/{id}/do/{action}"), &office, Some(&form(&all))).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        }
        let (_, v) = app.get(&format!("/api/v1/disputes/{id}"), "demo-town-duty").await;
        assert_eq!(v["status"], "closed", "{v}");
        assert_eq!(v["mediator_unit"], "青石镇司法所");
        let page = req(&app, "GET", &url, &office, None).await;
        assert!(page.body.contains("双方签订调解协议") && page.body.contains("回访双方，协议已履行"));
        assert!(page.body.contains("交办调处") && page.body.contains("办结"), "the record in words");
        assert!(!page.body.contains("data-action=\"close\""), "closed once");

        // Someone outside the township does not see it.
        let street = sign_in(&app, "demo-street-duty").await;
        let r = req(&app, "GET", &url, &street, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    };
}
