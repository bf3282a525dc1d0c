//! "My work" on the desk (issue 19): the decisions that wait for the signed-in person reach
//! that person's desk, and no one else's: a coercive step reaches the approver it names (not
//! the person who asked), a case proposal reaches the post next in its approval chain, in turn;
//! an extension request reaches the post the rules name, the review an ended response owes
//! reaches those who may write it; each leaves the desk once decided. Tasks assigned to the
//! person are listed apart.

use axum::http::StatusCode;
use serde_json::json;

use crate::console::{req, sign_in};
use crate::harness::TestApp;
use crate::on_both;
use crate::trust::active_incident;

/// The desk's "waiting for me" section, or "" when there is none.
async fn mine(app: &TestApp, token: &str) -> String {
    let cookie = sign_in(app, token).await;
    let desk = req(app, "GET", "/", &cookie, None).await;
    assert_eq!(desk.status, StatusCode::OK, "{}", desk.body);
    let Some(at) = desk.body.find("id=\"desk-mine\"") else {
        return String::new();
    };
    let rest = &desk.body[at..];
    rest[..rest.find("</section>").unwrap()].to_string()
}

on_both! {
    a_coercive_step_waits_on_the_desk_of_the_approver_it_names => |app: TestApp| async move {
        let id = active_incident(&app, 600).await;
        let path = |a: &str| format!("/api/v1/incidents/{id}/{a}");
        let (s, _) = app.post(&path("consultations"), "demo-duty-officer", json!({"step": "police", "participants": ["市信访局"], "conclusion": "报请调集警力"})).await;
        assert_eq!(s, StatusCode::OK);
        let approver = app.person("林建国").await;
        let (s, v) = app.post(&path("coercive-steps"), "demo-plac-secretary", json!({"step": "police", "approver_id": approver, "reason": "有人冲击大门"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let rid = v["coercive_steps"][0]["id"].as_str().unwrap().to_string();

        let m = mine(&app, "demo-commander").await;
        assert!(m.contains("data-my-decision=\"coercive\""), "the named approver sees it: {m}");
        assert!(m.contains("强制措施审批") && m.contains("钱立新"), "what and who asked: {m}");
        assert!(m.contains(&format!("href=\"/incidents/{id}#room-coercive\"")));
        for other in ["demo-plac-secretary", "demo-duty-officer", "demo-group-member"] {
            assert!(!mine(&app, other).await.contains("data-my-decision=\"coercive\""), "{other} does not decide it");
        }

        let (s, v) = app.post(&path(&format!("coercive-steps/{rid}/approve")), "demo-commander", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!mine(&app, "demo-commander").await.contains("data-my-decision=\"coercive\""), "decided: off the desk");
    };

    a_case_proposal_waits_on_the_desk_of_each_approver_in_turn => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": county, "channel": "letter",
            "petitioners": [{"name": "测试来信人"}],
            "title": "测试：反映小区路灯损坏", "grievance": "要求维修小区路灯"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        assert!(!mine(&app, "demo-commander").await.contains("data-my-decision=\"case_approval\""), "nothing proposed yet");
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/propose"), "demo-petition-clerk", json!({"text": "拟交市城管局办理"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");

        // First the 分管领导 (林建国), not yet the 秘书长.
        let m = mine(&app, "demo-commander").await;
        assert!(m.contains("data-my-decision=\"case_approval\"") && m.contains("拟交市城管局办理"), "{m}");
        assert!(m.contains(&format!("href=\"/cases/{cid}\"")));
        assert!(!mine(&app, "demo-secretary-general").await.contains("data-my-decision=\"case_approval\""), "not the secretary-general's turn");
        assert!(!mine(&app, "demo-petition-clerk").await.contains("data-my-decision=\"case_approval\""), "the clerk who proposed does not approve");

        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/approve"), "demo-commander", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!mine(&app, "demo-commander").await.contains("data-my-decision=\"case_approval\""));
        assert!(mine(&app, "demo-secretary-general").await.contains("data-my-decision=\"case_approval\""), "now the secretary-general's turn");
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/approve"), "demo-secretary-general", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!mine(&app, "demo-secretary-general").await.contains("data-my-decision=\"case_approval\""));
    };

    an_extension_request_waits_on_the_desk_of_the_post_that_decides_it => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": county, "channel": "online",
            "petitioners": [{"name": "测试来信人"}],
            "title": "测试：反映小区供水不足", "grievance": "要求恢复正常供水"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/extension-request"), "demo-petition-clerk", json!({"days": 15, "reason": "需多部门会商"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // The 分管领导 decides extensions, not the 秘书长, nor the clerk who asked.
        let m = mine(&app, "demo-commander").await;
        assert!(m.contains("data-my-decision=\"extension\"") && m.contains("延期申请审批"), "{m}");
        assert!(m.contains("15 天") && m.contains("需多部门会商"), "how long and why: {m}");
        assert!(m.contains(&format!("href=\"/cases/{cid}\"")));
        for other in ["demo-secretary-general", "demo-petition-clerk"] {
            assert!(!mine(&app, other).await.contains("data-my-decision=\"extension\""), "{other} does not decide it");
        }
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/extension-decision"), "demo-commander", json!({"approve": true})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!mine(&app, "demo-commander").await.contains("data-my-decision=\"extension\""), "decided: off the desk");
    };

    the_review_an_ended_response_owes_waits_on_the_desk_of_who_may_write_it => |app: TestApp| async move {
        let id = active_incident(&app, 120).await;
        let review_link = format!("href=\"/incidents/{id}#room-review\"");
        assert!(!mine(&app, "demo-commander").await.contains(&review_link), "still running: no review yet");
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/end"), "demo-plac-secretary", json!({"reason": "群众已散去", "open_tasks": "not_needed"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let m = mine(&app, "demo-commander").await;
        assert!(m.contains("data-my-decision=\"review\"") && m.contains("待总结评估"), "{m}");
        assert!(m.contains(&review_link));
        assert!(!mine(&app, "demo-group-member").await.contains(&review_link), "a group member does not write the review");
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/review"), "demo-commander", json!({"summary": "处置及时", "lessons": [], "corrective_actions": []})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!mine(&app, "demo-commander").await.contains(&review_link), "written: off the desk");
    };

    tasks_assigned_to_me_are_listed_on_my_desk => |app: TestApp| async move {
        let id = active_incident(&app, 120).await;
        let (_, inc) = app.get(&format!("/api/v1/incidents/{id}"), "demo-commander").await;
        let me = app.person("郑国平").await;
        let titles: Vec<String> = inc["tasks"].as_array().unwrap().iter()
            .filter(|t| t["assignees"].as_array().unwrap().iter().any(|a| a["person_id"] == me.as_str()))
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect();
        assert!(!titles.is_empty(), "the level gives the group member tasks");
        let m = mine(&app, "demo-group-member").await;
        for t in &titles {
            assert!(m.contains(t.as_str()), "{t} is on the member's desk: {m}");
        }
        let others = mine(&app, "demo-auditor").await;
        assert!(!others.contains("desk-my-tasks"), "the auditor has no tasks: {others}");
    };
}

on_both! {
    the_report_form_opens_on_the_viewers_own_plan => |app: TestApp| async move {
        let plan_of = |html: &str| {
            let at = html.find("id=\"intake\" data-plan=\"").expect("the intake form") + 23;
            html[at..at + html[at..].find('"').unwrap()].to_string()
        };
        let county = sign_in(&app, "demo-duty-officer").await;
        let page = req(&app, "GET", "/report", &county, None).await;
        assert_eq!(plan_of(&page.body), "linxiang-city-mass-petition", "the county's own plan");
        let street = sign_in(&app, "demo-street-duty").await;
        let page = req(&app, "GET", "/report", &street, None).await;
        assert_eq!(plan_of(&page.body), "ceshan-street-mass-petition", "the street's own plan, not the county's");
        // Any other is still there to choose.
        assert!(page.body.contains("value=\"linxiang-city-mass-petition\""));
    };
}
