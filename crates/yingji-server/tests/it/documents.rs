//! Documents and statistics files (issue 22), opened in a real reader (LibreOffice): the
//! review, the summary and a report upward from an incident; the written reply and the
//! referral notice from a case; each issue recorded in the timeline with the file's hash; the
//! statistics workbooks agree with a count over the records; the console offers the documents
//! to those who may issue them and the statistics page shows the figures.

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use yingji_domain::clock::Clock;

use crate::harness::{TestApp, report_body};
use crate::offers::{console_session, csrf_of, page};
use crate::on_both;
use crate::reader;

const DUTY: &str = "demo-duty-officer";
const COMMANDER: &str = "demo-commander";
const MEMBER: &str = "demo-group-member";
const STREET: &str = "demo-street-duty";
const SECRETARY: &str = "demo-plac-secretary";
const CLERK: &str = "demo-petition-clerk";
const DEPUTY: &str = "demo-commander";
const SECGEN: &str = "demo-secretary-general";

/// GETs raw bytes through the router (the harness decodes JSON; files are not).
async fn get_raw(app: &TestApp, path: &str, token: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let (s, h) = (resp.status(), resp.headers().clone());
    (
        s,
        h,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

/// Issues a document and answers its bytes, checking the answer's headers and that the
/// timeline recorded it with the file's hash.
async fn issue(app: &TestApp, path: &str, token: &str, body: Value, timeline: &str) -> Vec<u8> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::post(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let (s, h) = (resp.status(), resp.headers().clone());
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    assert_eq!(
        s,
        StatusCode::CREATED,
        "{path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        h["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"),
        "{h:?}"
    );
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(h["x-document-sha256"].to_str().unwrap(), sha);
    let (_, tl) = app.get(timeline, token).await;
    let last = tl["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|e| e["kind"] == "document_issued")
        .expect("document_issued in the timeline")
        .clone();
    assert_eq!(
        last["payload"]["document"]["sha256"],
        sha.as_str(),
        "{last}"
    );
    assert_eq!(last["payload"]["document"]["size"], bytes.len() as u64);
    bytes
}

async fn ok(app: &TestApp, path: &str, token: &str, body: Value) -> Value {
    let (s, v) = app.post(path, token, body).await;
    assert!(s.is_success(), "{path} as {token}: {s} {v}");
    v
}

fn has_all(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(
            text.contains(w),
            "`{w}` not in the document as read:\n{text}"
        );
    }
}

on_both! {
    incident_documents_open_in_a_reader_and_are_recorded => |app: TestApp| async move {
        let v = ok(&app, "/api/v1/incidents", DUTY, report_body(&app, 120).await).await;
        let iid = v["id"].as_str().unwrap().to_string();
        for (a, who) in [("verify", DUTY), ("assess", COMMANDER), ("activate", COMMANDER)] {
            app.advance_mins(5);
            ok(&app, &format!("/api/v1/incidents/{iid}/{a}"), who, json!({})).await;
        }
        let docs = format!("/api/v1/incidents/{iid}/documents");
        let tl = format!("/api/v1/incidents/{iid}/timeline");

        // Bad requests say what is wrong; the record is unchanged.
        let before = app.event_count().await;
        let (s, v) = app.post(&docs, COMMANDER, json!({"kind": "case_reply"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_field")), "{v}");
        let (s, v) = app.post(&docs, COMMANDER, json!({"kind": "review"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("document_not_ready")), "{v}");
        let (s, v) = app.post(&docs, COMMANDER, json!({"kind": "upward_report"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("missing_field")), "{v}");
        let (s, v) = app.post(&docs, COMMANDER, json!({"kind": "review", "colour": "red"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_request")), "{v}");
        let (s, _) = app.post(&docs, STREET, json!({"kind": "incident_summary"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "out of the street's scope");
        let (s, _) = app.post(&format!("/api/v1/incidents/{}/documents", uuid::Uuid::now_v7()), COMMANDER, json!({"kind": "incident_summary"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(app.event_count().await, before);

        // A report upward, once submitted: its fields, its recipient, the text.
        let (_, inc) = app.get(&format!("/api/v1/incidents/{iid}"), DUTY).await;
        let first = inc["upward_reports"].as_array().unwrap().iter().find(|r| r["kind"] == "first").unwrap().clone();
        let rid = first["id"].as_str().unwrap().to_string();
        let (s, v) = app.post(&docs, COMMANDER, json!({"kind": "upward_report", "report_id": rid})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("document_not_ready")), "{v}");
        ok(&app, &format!("/api/v1/incidents/{iid}/upward-reports/{rid}/submit"), SECRETARY, json!({"text": "现场约一百二十人，秩序平稳"})).await;
        let up = issue(&app, &docs, COMMANDER, json!({"kind": "upward_report", "report_id": rid}), &tl).await;
        let to = first["to"].as_str().unwrap();
        let text = if reader::available() { reader::docx_text(&up) } else { String::new() };
        if !text.is_empty() {
            has_all(&text, &["关于测试：群众反映拖欠工程款的首报", to, "现场约一百二十人，秩序平稳", "市政府东门", "120", "〔2026〕1号"]);
        }

        // The summary, now and again: the second is numbered 2.
        let s1 = issue(&app, &docs, DUTY, json!({"kind": "incident_summary"}), &tl).await;
        let s2 = issue(&app, &docs, DUTY, json!({"kind": "incident_summary"}), &tl).await;
        assert_ne!(s1, s2);

        // The review: measured times and corrective actions.
        app.advance_mins(60);
        ok(&app, &format!("/api/v1/incidents/{iid}/end"), SECRETARY, json!({"reason": "群众已散去"})).await;
        let due = app.clock_now_plus_days(10);
        ok(&app, &format!("/api/v1/incidents/{iid}/review"), COMMANDER, json!({
            "summary": "处置总体及时", "lessons": ["夜间到岗偏慢"],
            "corrective_actions": [{"title": "完善夜间值班制度", "owner_post": "township-head", "due_at": due}]})).await;
        let rv = issue(&app, &docs, COMMANDER, json!({"kind": "review"}), &tl).await;
        if reader::available() {
            let t = reader::docx_text(&s2);
            has_all(&t, &["处置情况的总结", "〔2026〕2号", "测试：群众反映拖欠工程款"]);
            let t = reader::docx_text(&rv);
            has_all(&t, &["评估报告", "处置总体及时", "夜间到岗偏慢", "完善夜间值班制度", "接报至核实", "5分钟", "整改中"]);
        }
        // Someone without the right to handle the incident cannot issue one.
        let (s, v) = app.post(&docs, MEMBER, json!({"kind": "incident_summary"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

        // The room lists what was issued, and offers the documents to the commander only.
        let cookie = console_session(&app, COMMANDER).await;
        let (s, html) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(html.matches("data-issued-document").count(), 4, "four issued");
        assert!(html.contains(r#"data-document="review""#) && html.contains(r#"data-document="upward_report""#));
        let member = console_session(&app, MEMBER).await;
        let (_, html_m) = page(&app, Method::GET, &format!("/incidents/{iid}"), &member, None).await;
        assert!(!html_m.contains("data-document="), "a member is offered no document");
        // The console's form issues the same document (a download).
        let csrf = csrf_of(&html);
        let resp = {
            use tower::ServiceExt;
            let req = axum::http::Request::post(format!("/incidents/{iid}/documents"))
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={csrf}&kind=review")))
                .unwrap();
            app.router.clone().oneshot(req).await.unwrap()
        };
        assert_eq!(resp.status(), StatusCode::CREATED);
        assert!(resp.headers()["content-disposition"].to_str().unwrap().contains(".docx"));
        let (_, tl_v) = app.get(&tl, DUTY).await;
        assert_eq!(tl_v["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "document_issued").count(), 5);
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty());
    };

    case_documents_name_the_petitioner_and_the_reply => |app: TestApp| async move {
        let (s, c) = app.post("/api/v1/cases", CLERK, json!({
            "jurisdiction_id": app.jurisdiction("临溪市").await,
            "channel": "letter",
            "petitioners": [{ "name": "柳春燕", "contact": "13900000000" }],
            "title": "反映小区供暖不足",
            "grievance": "要求供热公司提高室温",
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let number = c["case_number"].as_str().unwrap().to_string();
        let docs = format!("/api/v1/cases/{cid}/documents");
        let tl = format!("/api/v1/cases/{cid}/timeline");
        let (s, v) = app.post(&docs, CLERK, json!({"kind": "case_reply"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("document_not_ready")), "{v}");
        let (s, v) = app.post(&docs, CLERK, json!({"kind": "review"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_field")), "{v}");
        for (a, who, body) in [
            ("classify", CLERK, json!({"category": "administrative", "topic": "城乡建设"})),
            ("propose", CLERK, json!({"text": "拟交市住建局办理"})),
            ("approve", DEPUTY, json!({})),
            ("approve", SECGEN, json!({})),
            ("route", CLERK, json!({"kind": "assign", "target": "临溪市住建局"})),
        ] {
            ok(&app, &format!("/api/v1/cases/{cid}/{a}"), who, body).await;
        }
        let referral = issue(&app, &docs, CLERK, json!({"kind": "case_referral"}), &tl).await;
        let today = app.clock.now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date();
        ok(&app, &format!("/api/v1/cases/{cid}/reply"), CLERK, json!({"date": today.to_string(), "channel": "书面邮寄", "summary": "已责成供热公司于三日内整改，室温达标"})).await;
        let reply = issue(&app, &docs, CLERK, json!({"kind": "case_reply"}), &tl).await;
        if reader::available() {
            let t = reader::docx_text(&reply);
            has_all(&t, &["信访事项处理意见书", "柳春燕", "反映小区供暖不足", &number, "已责成供热公司于三日内整改，室温达标", "临溪市住建局", &today.strftime("%Y年%-m月%-d日").to_string(), "30日内"]);
            let t = reader::docx_text(&referral);
            has_all(&t, &["交办告知书", "柳春燕", "临溪市住建局"]);
        }
        // An extended case: the notice gives the reason, the approver and the new due date.
        let (_, c2) = app.post("/api/v1/cases", CLERK, json!({
            "jurisdiction_id": app.jurisdiction("临溪市").await, "channel": "online",
            "petitioners": [{ "name": "柳春燕" }], "title": "反映农贸市场噪声扰民", "grievance": "要求限制凌晨装卸"})).await;
        let c2id = c2["id"].as_str().unwrap().to_string();
        let d2 = format!("/api/v1/cases/{c2id}/documents");
        let (s, v) = app.post(&d2, CLERK, json!({"kind": "case_extension"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::CONFLICT, json!("document_not_ready")), "{v}");
        ok(&app, &format!("/api/v1/cases/{c2id}/extension-request"), CLERK, json!({"days": 30, "reason": "需多部门联合核查"})).await;
        let (s, _) = app.post(&d2, CLERK, json!({"kind": "case_extension"})).await;
        assert_eq!(s, StatusCode::CONFLICT, "asked, not yet approved");
        let v = ok(&app, &format!("/api/v1/cases/{c2id}/extension-decision"), DEPUTY, json!({"approve": true})).await;
        let last_day: jiff::civil::Date = v["due"]["last_day"].as_str().unwrap().parse().unwrap();
        let ext = issue(&app, &d2, CLERK, json!({"kind": "case_extension"}), &format!("/api/v1/cases/{c2id}/timeline")).await;
        if reader::available() {
            let t = reader::docx_text(&ext);
            has_all(&t, &["延期办理告知书", "柳春燕", "需多部门联合核查", "林建国", "延长30日", &last_day.strftime("%Y年%-m月%-d日").to_string()]);
        }

        // The case page lists both and offers the reply again (and no extension notice).
        let cookie = console_session(&app, CLERK).await;
        let (_, html) = page(&app, Method::GET, &format!("/cases/{cid}"), &cookie, None).await;
        assert_eq!(html.matches("data-issued-document").count(), 2);
        assert!(html.contains(r#"data-document="case_reply""#));
        assert!(!html.contains(r#"data-document="case_extension""#));
    };

    statistics_files_agree_with_a_count_over_the_records => |app: TestApp| async move {
        // Incidents of the demo plus a few: counted from the list, compared with the workbook.
        for n in [30, 80, 150] {
            let v = ok(&app, "/api/v1/incidents", DUTY, report_body(&app, n).await).await;
            let iid = v["id"].as_str().unwrap();
            if n == 30 {
                ok(&app, &format!("/api/v1/incidents/{iid}/unfounded"), DUTY, json!({"reason": "经核实为正常办事群众"})).await;
            }
        }
        // A drill: never counted; its documents say 演练.
        let mut drill = report_body(&app, 500).await;
        drill["drill"] = json!(true);
        let d = ok(&app, "/api/v1/incidents", DUTY, drill).await;
        let did = d["id"].as_str().unwrap().to_string();
        let dd = issue(&app, &format!("/api/v1/incidents/{did}/documents"), DUTY, json!({"kind": "incident_summary"}), &format!("/api/v1/incidents/{did}/timeline")).await;
        if reader::available() {
            assert!(reader::docx_text(&dd).starts_with("【演练】"));
        }
        let (_, list) = app.get("/api/v1/incidents?limit=200", "demo-city-duty").await;
        let year = app.clock.now().strftime("%Y").to_string();
        let counted: Vec<&Value> = list["items"].as_array().unwrap().iter()
            .filter(|i| i["drill"] == false && i["kind"] != "escalation" && i["reported_at"].as_str().unwrap().starts_with(&year))
            .collect();
        let unfounded = counted.iter().filter(|i| i["status"] == "unfounded").count();
        let (s, st) = app.get(&format!("/api/v1/statistics/incidents?year={year}"), "demo-city-duty").await;
        assert_eq!(s, StatusCode::OK, "{st}");
        assert_eq!(st["total"]["reported"], counted.len(), "{st}");
        assert_eq!(st["total"]["unfounded"], unfounded, "{st}");
        let months: i64 = st["by_month"].as_array().unwrap().iter().map(|g| g["reported"].as_i64().unwrap()).sum();
        assert_eq!(months, counted.len() as i64);
        assert_eq!(st["by_month"].as_array().unwrap().len(), 12);

        // Cases: three more, of two channels.
        for ch in ["letter", "letter", "visit"] {
            let (s, v) = app.post("/api/v1/cases", CLERK, json!({
                "jurisdiction_id": app.jurisdiction("临溪市").await, "channel": ch,
                "petitioners": [{ "name": "韩冬梅" }], "title": "反映道路积水", "grievance": "要求疏通排水管"})).await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
        }
        let (_, cases) = app.get("/api/v1/cases?limit=200", "demo-city-duty").await;
        let by_channel = |ch: &str| cases["items"].as_array().unwrap().iter().filter(|c| c["channel"] == ch && c["accepted_on"].as_str().unwrap().starts_with(&year)).count();

        // The CSV: a byte-order mark, Chinese headers, numbers.
        let (s, h, csv) = get_raw(&app, &format!("/api/v1/statistics/cases.csv?year={year}&by=channel"), "demo-city-duty").await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&csv));
        assert!(h["content-type"].to_str().unwrap().starts_with("text/csv"));
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("分组,受理,已答复,按期办结,超期,延期"), "{csv}");
        assert!(csv.contains(&format!("来信,{},", by_channel("letter"))), "{csv}");
        let (s, v) = app.get(&format!("/api/v1/statistics/cases.csv?year={year}&by=weather"), CLERK).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_query")));
        let (s, _) = app.get("/api/v1/statistics/cases.xlsx?year=1200", CLERK).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        let (s, _) = app.get(&format!("/api/v1/statistics/incidents.xlsx?year={year}&jurisdiction_id={}", app.jurisdiction("临溪市").await), STREET).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "a street cannot read the city's figures");

        // The workbooks, read back: figures are numbers and agree with the count.
        let (s, h, xlsx) = get_raw(&app, &format!("/api/v1/statistics/cases.xlsx?year={year}"), "demo-city-duty").await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let (_, _, ixlsx) = get_raw(&app, &format!("/api/v1/statistics/incidents.xlsx?year={year}"), "demo-city-duty").await;
        if reader::available() {
            let sheets = reader::xlsx_sheets(&xlsx);
            let about = &sheets["说明"];
            assert!(about.iter().any(|r| r[0].contains("统计期间") && r[1].contains(&format!("{year}年"))), "{about:?}");
            assert!(about.iter().any(|r| r[0].contains("数据来源")), "{about:?}");
            let ch = &sheets["按渠道"];
            let row = ch.iter().find(|r| r[0] == "\"来信\"").expect("a letter row");
            assert_eq!(row[1], by_channel("letter").to_string(), "unquoted: a number");
            let visit = ch.iter().find(|r| r[0] == "\"来访\"").expect("a visit row");
            assert_eq!(visit[1], by_channel("visit").to_string());
            let total = &sheets["汇总"];
            let all = cases["items"].as_array().unwrap().iter().filter(|c| c["accepted_on"].as_str().unwrap().starts_with(&year)).count();
            assert_eq!(total[1][1], all.to_string(), "{total:?}");
            let isheets = reader::xlsx_sheets(&ixlsx);
            let by_month = &isheets["按月份"];
            let total_row = by_month.last().unwrap();
            assert_eq!(total_row[0], "\"合计\"");
            assert_eq!(total_row[1], counted.len().to_string());
            assert_eq!(total_row[2], unfounded.to_string());
            assert_eq!(isheets.len(), 5, "about and four groupings: {:?}", isheets.keys());
        }

        // Screening: a round of 青石镇 with one nil return; the figures agree with the round's
        // own view.
        let town = app.jurisdiction("青石镇").await;
        let (s, r) = app.post("/api/v1/disputes/rounds", "demo-town-duty", json!({"jurisdiction_id": town})).await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
        let rid = r["id"].as_str().unwrap().to_string();
        let (_, view) = app.get(&format!("/api/v1/disputes/rounds/{rid}"), "demo-town-duty").await;
        let unit = view["units"][0]["unit_id"].as_str().unwrap().to_string();
        ok(&app, &format!("/api/v1/disputes/rounds/{rid}/submissions"), "demo-town-duty", json!({"unit_id": unit, "nil": true})).await;
        let (_, view) = app.get(&format!("/api/v1/disputes/rounds/{rid}"), "demo-town-duty").await;
        let units = view["units"].as_array().unwrap().len() as i64;
        let (s, sc) = app.get(&format!("/api/v1/statistics/screening?year={year}"), "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK, "{sc}");
        let line = sc["rounds"].as_array().unwrap().iter().find(|l| l["round_id"] == rid.as_str()).expect("the round").clone();
        assert_eq!(line["units"], units);
        assert_eq!(line["returned"], 1);
        assert_eq!(line["nil"], 1);
        assert_eq!(line["missing"], view["missing"]);
        let (_, _, sx) = get_raw(&app, &format!("/api/v1/statistics/screening.xlsx?year={year}"), "demo-town-duty").await;
        if reader::available() {
            let sheets = reader::xlsx_sheets(&sx);
            let rounds = &sheets["矛盾纠纷排查"];
            assert!(rounds[0].contains(&"\"报送率\"".to_string()), "{rounds:?}");
            let total = rounds.last().unwrap();
            assert_eq!(total[0], "\"合计\"");
            assert_eq!(total[3], sc["total"]["units"].to_string());
            assert_eq!(total[4], "1");
        }

        // The statistics page: the figures, a chart per table and the downloads.
        let cookie = console_session(&app, "demo-city-duty").await;
        let (s, html) = page(&app, Method::GET, &format!("/statistics?year={year}&by=channel"), &cookie, None).await;
        assert_eq!(s, StatusCode::OK, "{html}");
        assert_eq!(html.matches("<svg class=\"chart bars\"").count(), 3, "{html}");
        assert!(html.contains(&format!("<th scope=\"row\">来信</th><td>{}</td>", by_channel("letter"))), "{html}");
        assert!(html.contains("/api/v1/statistics/cases.xlsx?year="));

        // Scheduled reports: the figures of the special-period plan agree with its boards, day
        // by day (every slot past its deadline counted, each in its state). 13 August 2026,
        // 16:00 in Shanghai: the plan's special period began on the 10th, its daily report is
        // due at 15:00.
        app.clock.set("2026-08-13T08:00:00Z".parse().unwrap());
        let (s, rs) = app.get(&format!("/api/v1/statistics/reports?year={year}&quarter=3"), "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK, "{rs}");
        let lines: Vec<&Value> = rs["lines"].as_array().unwrap().iter().filter(|l| l["plan_id"] == "township-special-period").collect();
        let sum = |k: &str| lines.iter().map(|l| l[k].as_i64().unwrap()).sum::<i64>();
        let (mut owed, mut late, mut missing) = (0, 0, 0);
        let today = app.clock.now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date();
        let mut day: jiff::civil::Date = format!("{year}-07-01").parse().unwrap();
        while day <= today {
            let (s, b) = app.get(&format!("/api/v1/reports/board?plan_id=township-special-period&date={day}"), "demo-town-duty").await;
            assert_eq!(s, StatusCode::OK, "{b}");
            for r in b["items"].as_array().unwrap() {
                match r["state"].as_str().unwrap() {
                    "pending" => continue,
                    "late" => missing += 1,
                    "submitted_late" => late += 1,
                    _ => {}
                }
                owed += 1;
            }
            day = day.tomorrow().unwrap();
        }
        assert!(owed > 0, "the demo's special period has reports due");
        assert_eq!((sum("owed"), sum("late"), sum("missing")), (owed, late, missing), "{rs}");
        let (_, _, rx) = get_raw(&app, &format!("/api/v1/statistics/reports.xlsx?year={year}&quarter=3"), "demo-town-duty").await;
        if reader::available() {
            let sheets = reader::xlsx_sheets(&rx);
            let total = sheets["定时报告和零报告"].last().unwrap().clone();
            assert_eq!(total[0], "\"合计\"");
            assert_eq!(total[3], rs["total"]["owed"].to_string());
        }
    };
}
