//! The incident room's actions that the console lacked (issue 19): the most severe level is
//! activated only with a ticked confirmation; a duty officer escalates to the parent, whose duty
//! officer sees the new record on their desk; a warning is lifted with a reason; a task is
//! cancelled with a reason. Each through the console's forms, checked as a person would.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::console::{csrf_of, req, sign_in};
use crate::harness::{TestApp, report_body};
use crate::on_both;

async fn reported(app: &TestApp, headcount: u32) -> String {
    let (s, inc) = app
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            report_body(app, headcount).await,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    inc["id"].as_str().unwrap().to_string()
}

async fn incident(app: &TestApp, id: &str) -> Value {
    let (s, v) = app
        .get(&format!("/api/v1/incidents/{id}"), "demo-commander")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

on_both! {
    the_most_severe_level_is_activated_only_when_confirmed => |app: TestApp| async move {
        let id = reported(&app, 600).await;
        app.post(&format!("/api/v1/incidents/{id}/verify"), "demo-duty-officer", json!({})).await;
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/assess"), "demo-commander", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["level"]["id"], "I", "600 people is the plan's level I");
        let cookie = sign_in(&app, "demo-commander").await;
        let room = req(&app, "GET", &format!("/incidents/{id}"), &cookie, None).await;
        assert!(room.body.contains("data-confirm=\"activate\""), "the form asks for a confirmation");
        assert!(room.body.contains("确认启动最高级别响应"));
        let csrf = csrf_of(&room.body);
        // Sent without the box ticked: refused, said in words, and nothing changes.
        let r = req(&app, "POST", &format!("/incidents/{id}/do/activate"), &cookie, Some(&format!("csrf={csrf}"))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
        assert!(r.body.contains("请先勾选确认框"), "{}", r.body);
        assert_eq!(incident(&app, &id).await["status"], "verified");
        // Ticked: activated.
        let r = req(&app, "POST", &format!("/incidents/{id}/do/activate"), &cookie, Some(&format!("csrf={csrf}&confirm=yes"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(incident(&app, &id).await["status"], "active");

        // A lower level asks for no confirmation.
        let id2 = reported(&app, 120).await;
        app.post(&format!("/api/v1/incidents/{id2}/verify"), "demo-duty-officer", json!({})).await;
        app.post(&format!("/api/v1/incidents/{id2}/assess"), "demo-commander", json!({})).await;
        let room = req(&app, "GET", &format!("/incidents/{id2}"), &cookie, None).await;
        assert!(room.body.contains("data-action=\"activate\""));
        assert!(!room.body.contains("data-confirm=\"activate\""));
        let r = req(&app, "POST", &format!("/incidents/{id2}/do/activate"), &cookie, Some(&format!("csrf={}", csrf_of(&room.body)))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    };

    a_duty_officer_escalates_and_the_parent_sees_it_on_the_desk => |app: TestApp| async move {
        let id = reported(&app, 600).await;
        app.post(&format!("/api/v1/incidents/{id}/verify"), "demo-duty-officer", json!({})).await;
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let room = req(&app, "GET", &format!("/incidents/{id}"), &cookie, None).await;
        assert!(room.body.contains("data-action=\"escalate\""), "the duty officer is offered 上报");
        let csrf = csrf_of(&room.body);
        let r = req(&app, "POST", &format!("/incidents/{id}/do/escalate"), &cookie, Some(&format!("csrf={csrf}&note=%E4%BA%BA%E6%95%B0%E8%B6%85%E8%BF%87%E4%BA%94%E7%99%BE"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let parent = incident(&app, &id).await["parent_incident"].as_str().expect("a parent record").to_string();
        // Escalated once: the room no longer offers it.
        let room = req(&app, "GET", &format!("/incidents/{id}"), &cookie, None).await;
        assert!(!room.body.contains("data-action=\"escalate\""));
        // The parent's duty officer sees the new record on their desk.
        let city = sign_in(&app, "demo-city-duty").await;
        let desk = req(&app, "GET", "/", &city, None).await;
        assert!(desk.body.contains(&format!("/incidents/{parent}")), "the city's desk lists the escalated record");
        // The county does not see the city's record.
        let r = req(&app, "GET", &format!("/incidents/{parent}"), &cookie, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    };

    a_warning_is_lifted_and_a_task_cancelled_with_a_reason => |app: TestApp| async move {
        let id = crate::trust::active_incident(&app, 120).await;
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/warning"), "demo-commander", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let cookie = sign_in(&app, "demo-commander").await;
        let room = req(&app, "GET", &format!("/incidents/{id}"), &cookie, None).await;
        assert!(room.body.contains("data-action=\"lift-warning\""));
        let csrf = csrf_of(&room.body);
        // Without a reason: refused, the warning stays.
        let r = req(&app, "POST", &format!("/incidents/{id}/do/lift-warning"), &cookie, Some(&format!("csrf={csrf}&reason="))).await;
        assert_ne!(r.status, StatusCode::SEE_OTHER);
        assert!(!incident(&app, &id).await["warning"].is_null());
        let r = req(&app, "POST", &format!("/incidents/{id}/do/lift-warning"), &cookie, Some(&format!("csrf={csrf}&reason=%E4%BA%BA%E7%BE%A4%E5%B7%B2%E6%95%A3"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert!(incident(&app, &id).await["warning"].is_null(), "the warning is lifted");

        // Cancel an open task with a reason.
        let inc = incident(&app, &id).await;
        let task = inc["tasks"].as_array().unwrap().iter().find(|t| t["state"] == "open").expect("an open task")["id"].as_str().unwrap().to_string();
        let room = req(&app, "GET", &format!("/incidents/{id}"), &cookie, None).await;
        assert!(room.body.contains(&format!("/incidents/{id}/tasks/{task}/cancel")), "the commander may cancel the task");
        let r = req(&app, "POST", &format!("/incidents/{id}/tasks/{task}/cancel"), &cookie, Some(&format!("csrf={csrf}&reason=%E4%B8%8D%E5%86%8D%E9%9C%80%E8%A6%81"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let inc = incident(&app, &id).await;
        let t = inc["tasks"].as_array().unwrap().iter().find(|t| t["id"] == task.as_str()).unwrap().clone();
        assert_eq!(t["state"], "cancelled", "{t}");
        // An auditor reads the room but may not cancel tasks: no form.
        let auditor = sign_in(&app, "demo-auditor").await;
        let room = req(&app, "GET", &format!("/incidents/{id}"), &auditor, None).await;
        assert_eq!(room.status, StatusCode::OK);
        assert!(!room.body.contains("data-task-action=\"cancel\""));
    };
}

on_both! {
    a_person_called_acknowledges_from_the_desk_with_one_tap => |app: TestApp| async move {
        let id = crate::trust::active_incident(&app, 120).await;
        let member = sign_in(&app, "demo-group-member").await;
        let desk = req(&app, "GET", "/", &member, None).await;
        assert!(desk.body.contains("等我签收的呼叫"), "the call waiting for this person comes first");
        let at = desk.body.find("data-my-call=\"").expect("a call of mine") + 14;
        let call = desk.body[at..at + 36].to_string();
        // Another person (the commander) is not offered this person's acknowledgement.
        let commander = sign_in(&app, "demo-commander").await;
        let other = req(&app, "GET", "/", &commander, None).await;
        assert!(!other.body.contains(&format!("data-my-call=\"{call}\"")));
        let r = req(&app, "POST", &format!("/calls/{call}/ack"), &member, Some(&format!("csrf={}", csrf_of(&desk.body)))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let desk = req(&app, "GET", "/", &member, None).await;
        assert!(!desk.body.contains(&format!("data-my-call=\"{call}\"")), "acknowledged: gone from my desk");
        // Recorded as the person's acknowledgement, by the console.
        let (_, tl) = app.get(&format!("/api/v1/incidents/{id}/timeline"), "demo-commander").await;
        let items = tl["items"].as_array().or(tl.as_array()).unwrap().clone();
        let ack = items.iter().find(|e| e["kind"] == "call_acknowledged" && e["payload"]["call_id"] == call.as_str()).expect("ack in the timeline");
        assert_eq!(ack["payload"]["channel"], "inapp", "acknowledged in the app");
        assert_eq!(ack["payload"]["person"]["name"], "郑国平");
    };
}

on_both! {
    the_incident_list_keeps_finished_incidents_and_filters_them => |app: TestApp| async move {
        let open = reported(&app, 30).await;
        let gone = reported(&app, 40).await;
        let (s, v) = app.post(&format!("/api/v1/incidents/{gone}/unfounded"), "demo-duty-officer", json!({"reason": "核实无此事"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let all = req(&app, "GET", "/incidents", &cookie, None).await;
        assert_eq!(all.status, StatusCode::OK);
        assert!(all.body.contains("href=\"/incidents\""), "the nav offers the list");
        assert!(all.body.contains(&format!("data-incident=\"{open}\"")));
        assert!(all.body.contains(&format!("data-incident=\"{gone}\"")), "a finished incident stays findable");
        let only = req(&app, "GET", "/incidents?status=unfounded", &cookie, None).await;
        assert!(only.body.contains(&format!("data-incident=\"{gone}\"")));
        assert!(!only.body.contains(&format!("data-incident=\"{open}\"")));
        assert!(only.body.contains("不实"));
        let bad = req(&app, "GET", "/incidents?from=2026-13-40", &cookie, None).await;
        assert_eq!(bad.status, StatusCode::OK);
        assert!(bad.body.contains("日期“2026-13-40”不正确"), "{}", bad.body);
        // Narrowed to one jurisdiction below: the county's own incident is not there.
        let qingshi = app.jurisdiction("青石镇").await;
        let below = req(&app, "GET", &format!("/incidents?jurisdiction={qingshi}"), &cookie, None).await;
        assert!(!below.body.contains(&format!("data-incident=\"{open}\"")));
        assert!(below.body.contains(&format!("value=\"{qingshi}\" selected")), "the choice is kept");
        let county = app.jurisdiction("临溪市").await;
        let here = req(&app, "GET", &format!("/incidents?jurisdiction={county}"), &cookie, None).await;
        assert!(here.body.contains(&format!("data-incident=\"{open}\"")));
        // A jurisdiction above the viewer's area does not widen it.
        let province = app.jurisdiction("江川省").await;
        let above = req(&app, "GET", &format!("/incidents?jurisdiction={province}"), &cookie, None).await;
        assert_eq!(above.status, StatusCode::OK);
        assert!(!above.body.contains(&format!("value=\"{province}\"")), "not offered");
        assert!(above.body.contains(&format!("data-incident=\"{open}\"")), "the viewer's own area");
        // Out of scope: a township sees none of the county's incidents.
        let town = sign_in(&app, "demo-town-duty").await;
        let theirs = req(&app, "GET", "/incidents", &town, None).await;
        assert!(!theirs.body.contains(&format!("data-incident=\"{open}\"")));
    };
}
