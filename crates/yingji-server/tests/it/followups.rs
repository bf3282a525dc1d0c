//! Leader instructions, coordination meetings and commendation/accountability records (issue 23
//! items 3–4), as the people see it: an instruction on an incident requires something by a time
//! and turns overdue when it passes unanswered; a meeting's decisions are follow-ups with owners
//! and deadlines, answered one by one; texts asking for measures out of scope are refused; the
//! records of commendation and accountability are seen by reviewers, not by others; the room
//! shows them to whom they are for and offers the forms exactly to those the commands accept.

use axum::http::{Method, StatusCode};
use jiff::SignedDuration;
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body};
use crate::offers::{console_session, page};
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const MEMBER: &str = "demo-group-member";

fn hours(app: &TestApp, h: i64) -> String {
    use yingji_domain::clock::Clock;
    app.clock
        .now()
        .checked_add(SignedDuration::from_hours(h))
        .unwrap()
        .to_string()
}

async fn directives(app: &TestApp, iid: &str) -> Vec<Value> {
    let (s, v) = app
        .get(
            &format!("/api/v1/directives?subject_kind=incident&subject_id={iid}"),
            DUTY,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().unwrap().clone()
}

on_both! {
    instructions_and_meetings_are_tracked_to_an_answer => |app: TestApp| async move {
        let rig = crate::notices::rig(&app).await;
        let inc = app.post("/api/v1/incidents", DUTY, report_body(&app, 120).await).await.1;
        let iid = inc["id"].as_str().unwrap().to_string();
        let (s, d) = app.post("/api/v1/directives", COMMANDER, json!({
            "kind": "instruction", "subject_kind": "incident", "subject_id": iid,
            "title": "市政府分管副市长（演示）", "text": "请妥善处置，及时回应群众合理诉求。",
            "follow_ups": [{"text": "两小时内报告处置进展", "owner": "petition-bureau-director", "due_at": hours(&app, 2)}]})).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let did = d["id"].as_str().unwrap().to_string();
        let fid = d["follow_ups"][0]["id"].as_str().unwrap().to_string();
        let (s, m) = app.post("/api/v1/directives", DUTY, json!({
            "kind": "meeting", "subject_kind": "incident", "subject_id": iid,
            "title": "工程款纠纷协调会", "text": "会议听取情况汇报，议定以下事项。",
            "participants": ["市信访局", "市住建局", "事发地镇政府"],
            "follow_ups": [
                {"text": "核实工程款拖欠金额", "owner": "市住建局", "due_at": hours(&app, 24)},
                {"text": "答复群众代表", "owner": "事发地镇政府", "due_at": hours(&app, 48)}]})).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        let mid = m["id"].as_str().unwrap().to_string();
        assert_eq!(directives(&app, &iid).await.len(), 2);

        // Three hours on, the instruction's requirement is overdue; the meeting's are not.
        app.advance_mins(180);
        yingji_server::tick(&app.state).await.unwrap();
        let ds = directives(&app, &iid).await;
        let instr = ds.iter().find(|x| x["id"] == did.as_str()).unwrap();
        assert_eq!(instr["follow_ups"][0]["overdue"], true, "{instr}");
        let meet = ds.iter().find(|x| x["id"] == mid.as_str()).unwrap();
        assert!(meet["follow_ups"].as_array().unwrap().iter().all(|f| f["overdue"] == false));
        // Its owner (the post's holder, 周敏) is told, at a real local receiver, once.
        rig.deliver().await;
        let zhou = app.person("周敏").await;
        let msg = rig.hook(&zhou, &["两小时内报告处置进展", "逾期"]);
        assert!(msg["subject"].as_str().unwrap().contains("逾期"), "{msg}");
        yingji_server::tick(&app.state).await.unwrap();
        rig.deliver().await;
        let told = rig.http.lock().unwrap().iter()
            .filter(|(p, b)| *p == format!("/hook/{zhou}") && b["text"].as_str().unwrap_or("").contains("两小时内报告处置进展"))
            .count();
        assert_eq!(told, 1, "once");
        // Answered late: recorded with who and when.
        let (s, v) = app.post(&format!("/api/v1/directives/{did}/answers"), DUTY, json!({"follow_up_id": fid, "answer": "已书面报告处置进展"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["follow_ups"][0]["answered_by"]["name"], "王晓明");
        let (s, _) = app.post(&format!("/api/v1/directives/{did}/answers"), DUTY, json!({"follow_up_id": fid, "answer": "again"})).await;
        assert_eq!(s, StatusCode::CONFLICT);
        // One decision answered; the other turns overdue after its deadline.
        let f1 = m["follow_ups"][0]["id"].as_str().unwrap();
        app.post(&format!("/api/v1/directives/{mid}/answers"), DUTY, json!({"follow_up_id": f1, "answer": "已核实"})).await;
        app.advance_mins(60 * 48);
        yingji_server::tick(&app.state).await.unwrap();
        let ds = directives(&app, &iid).await;
        let meet = ds.iter().find(|x| x["id"] == mid.as_str()).unwrap();
        assert_eq!(meet["follow_ups"][0]["overdue"], false, "answered in time");
        assert_eq!(meet["follow_ups"][1]["overdue"], true);

        // The room shows them; the overdue decision is marked.
        let cookie = console_session(&app, DUTY).await;
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        let block = &room[room.find("id=\"directives\"").unwrap()..];
        assert_eq!(block.matches("data-directive=").count(), 2);
        assert!(block.contains("data-overdue=\"true\""));
        assert!(block.contains("data-action=\"instruction-record\""));

        // Out of scope, in the future, a deadline before the instruction: refused.
        let before = app.event_count().await;
        let (s, e) = app.post("/api/v1/directives", COMMANDER, json!({
            "kind": "instruction", "subject_kind": "incident", "subject_id": iid,
            "title": "某领导", "text": "加强工作",
            "follow_ups": [{"text": "安排专人盯守上访人员", "owner": "镇政府", "due_at": hours(&app, 2)}]})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains("P05"), "{e}");
        let (s, _) = app.post("/api/v1/directives", COMMANDER, json!({
            "kind": "instruction", "subject_kind": "incident", "subject_id": iid,
            "title": "某领导", "text": "加强工作", "given_at": hours(&app, 5),
            "follow_ups": [{"text": "报告", "owner": "镇政府", "due_at": hours(&app, 6)}]})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        let (s, _) = app.post("/api/v1/directives", COMMANDER, json!({
            "kind": "instruction", "subject_kind": "incident", "subject_id": iid,
            "title": "某领导", "text": "加强工作",
            "follow_ups": [{"text": "报告", "owner": "镇政府", "due_at": hours(&app, -1)}]})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.event_count().await, before, "nothing written");
    };

    commendation_and_accountability_are_seen_by_reviewers_only => |app: TestApp| async move {
        let inc = app.post("/api/v1/incidents", DUTY, report_body(&app, 120).await).await.1;
        let iid = inc["id"].as_str().unwrap().to_string();
        let body = json!({"kind": "commendation", "subject_kind": "incident", "subject_id": iid,
            "concerns": "临溪市信访局接待科", "basis": "预案第七条 奖励与责任追究",
            "decided_by": "临溪市应急指挥部", "decision": "处置及时，通报表扬", "decided_on": "2026-03-02"});
        let (s, _) = app.post("/api/v1/sanctions", DUTY, body.clone()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "the duty officer does not decide these");
        let (s, v) = app.post("/api/v1/sanctions", COMMANDER, body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let q = format!("/api/v1/sanctions?subject_kind=incident&subject_id={iid}");
        let (s, list) = app.get(&q, COMMANDER).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list.as_array().unwrap().len(), 1);
        let (s, _) = app.get(&q, MEMBER).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // A "score" of petitions prevented is not a basis yingji records.
        let (s, e) = app.post("/api/v1/sanctions", COMMANDER, json!({"kind": "commendation", "subject_kind": "incident", "subject_id": iid,
            "concerns": "某镇", "basis": "劝返上访人员有功", "decided_by": "某单位", "decision": "奖励", "decided_on": "2026-03-02"})).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
        // The room shows the block to the commander and not to a group member.
        let c = console_session(&app, COMMANDER).await;
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &c, None).await;
        assert!(room.contains("id=\"sanctions\"") && room.contains("data-sanction=\"commendation\""));
        assert!(room.contains("data-action=\"sanction-record\""));
        let m = console_session(&app, MEMBER).await;
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &m, None).await;
        assert!(!room.contains("id=\"sanctions\""));
    };
}
