//! Every notice delivered ("done means a person sees it"): each kind of outbox message the
//! system writes goes through the real outbox worker to a local webhook receiver and a local
//! SMTP server (a petitioner's phone through a local SMS gateway), to the person its rule names,
//! with its text from the catalogue; a notice nobody can receive is on the owning desk; no
//! outbox row of any kind ends `skipped`.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Method, StatusCode, Uri};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use yingji_notify::Worker;
use yingji_store::notify::DeliveryFilter;

use crate::harness::{TestApp, report_body};
use crate::on_both;

const ADMIN: &str = "demo-province-admin";
const CLERK: &str = "demo-petition-clerk";
const DEPUTY: &str = "demo-commander";
const SECGEN: &str = "demo-secretary-general";

/// Every HTTP request: (path, JSON body).
pub(crate) type Got = Arc<Mutex<Vec<(String, Value)>>>;

pub(crate) async fn http_receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let g = got.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, body: String| {
        let g = g.clone();
        async move {
            let v: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
            g.lock().unwrap().push((uri.path().to_string(), v));
            StatusCode::OK
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}"), got)
}

/// A minimal SMTP server: accepts every message and keeps its data.
async fn smtp_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else {
                return;
            };
            let g = g.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"220 test ESMTP\r\n").await.unwrap();
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.trim_end().to_ascii_uppercase();
                    if cmd.starts_with("EHLO") {
                        w.write_all(b"250-test\r\n250 8BITMIME\r\n").await.unwrap();
                    } else if cmd.starts_with("DATA") {
                        w.write_all(b"354 go ahead\r\n").await.unwrap();
                        let mut data = String::new();
                        loop {
                            line.clear();
                            r.read_line(&mut line).await.unwrap();
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(&line);
                        }
                        g.lock().unwrap().push(data);
                        w.write_all(b"250 queued\r\n").await.unwrap();
                    } else if cmd.starts_with("QUIT") {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        return;
                    } else {
                        w.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, got)
}

/// The real outbox worker with a webhook receiver, an SMTP server and an SMS gateway; every
/// person of the demo directory has a webhook (`/hook/<id>`) and an e-mail (`<id>@example.org`).
pub(crate) struct Rig {
    base: String,
    pub(crate) http: Got,
    mails: Arc<Mutex<Vec<String>>>,
    worker: Arc<Worker>,
}

pub(crate) async fn rig(app: &TestApp) -> Rig {
    let (base, http) = http_receiver().await;
    let (port, mails) = smtp_server().await;
    let cfg = yingji_notify::NotifyConfig {
        secret: "s".repeat(40),
        smtp: Some(serde_json::from_value(json!({"host": "127.0.0.1", "port": port, "tls": "none", "from": "应急值班室 <duty@example.org>"})).unwrap()),
        sms: Some(serde_json::from_value(json!({"url": format!("{base}/sms")})).unwrap()),
        allow_destinations: crate::harness::loopback_allowed(),
        ..Default::default()
    };
    let worker =
        Arc::new(Worker::new(app.state.store.clone(), app.state.clock.clone(), cfg).unwrap());
    worker.set_opener(app.state.address_opener());
    let (s, people) = app.get("/api/v1/people", ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{people}");
    for p in people["items"].as_array().unwrap() {
        let id = p["id"].as_str().unwrap();
        let body = json!({"channels": [
            {"channel": "webhook", "address": format!("{base}/hook/{id}")},
            {"channel": "email", "address": format!("{id}@example.org")},
        ]});
        let (s, v, _) = app
            .send(
                Method::PUT,
                &format!("/api/v1/people/{id}/channels"),
                Some(ADMIN),
                Some(Body::from(body.to_string())),
                &[("content-type", "application/json")],
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    Rig {
        base,
        http,
        mails,
        worker,
    }
}

impl Rig {
    pub(crate) async fn deliver(&self) {
        for _ in 0..3 {
            self.worker.run_once().await.unwrap();
        }
    }

    /// The webhook message to a person whose text contains every needle.
    pub(crate) fn hook(&self, person: &str, needles: &[&str]) -> Value {
        let got = self.http.lock().unwrap();
        got.iter()
            .find(|(p, b)| {
                *p == format!("/hook/{person}")
                    && needles
                        .iter()
                        .all(|n| b["text"].as_str().unwrap_or("").contains(n))
            })
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("no webhook message to {person} with {needles:?}: {got:?}"))
    }

    /// The SMS gateway's message to a phone.
    fn sms(&self, phone: &str, needles: &[&str]) -> Value {
        let got = self.http.lock().unwrap();
        got.iter()
            .find(|(p, b)| {
                p == "/sms"
                    && b["to"] == phone
                    && needles
                        .iter()
                        .all(|n| b["text"].as_str().unwrap_or("").contains(n))
            })
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| panic!("no SMS to {phone} with {needles:?}: {got:?}"))
    }
}

/// The e-mail sent to `address` whose text contains every needle: the delivery, and the
/// SMTP server received it (its message id is the delivery id).
async fn mail(app: &TestApp, rig: &Rig, address: &str, needles: &[&str]) {
    let sent = app
        .state
        .store
        .list_deliveries(&DeliveryFilter {
            scope_path: "/".into(),
            state: Some("sent".into()),
            incident_id: None,
            channel: Some("email".into()),
            before: None,
            limit: 1000,
        })
        .await
        .unwrap();
    // Addresses are sealed in the row (opened only to send): the deliveries with the text, one
    // of which the SMTP server received for this address, under the delivery's id.
    let candidates: Vec<_> = sent
        .iter()
        .filter(|d| {
            (d.address == address || d.address.starts_with("sealed1:"))
                && needles.iter().all(|n| d.body.contains(n))
        })
        .collect();
    assert!(
        !candidates.is_empty(),
        "no e-mail to {address} with {needles:?}"
    );
    let mails = rig.mails.lock().unwrap();
    assert!(
        candidates.iter().any(|d| mails
            .iter()
            .any(|m| m.contains(&format!("<{}@yingji>", d.id)) && m.contains(address))),
        "the SMTP server did not receive the e-mail to {address}"
    );
}

/// Both channels of a person reached.
pub async fn reached(app: &TestApp, rig: &Rig, person: &str, needles: &[&str]) {
    rig.hook(person, needles);
    mail(app, rig, &format!("{person}@example.org"), needles).await;
}

async fn new_case(app: &TestApp, title: &str, contact: &str) -> String {
    let body = json!({
        "jurisdiction_id": app.jurisdiction("临溪市").await,
        "channel": "letter",
        "petitioners": [{ "name": "测试来信人", "contact": contact }],
        "title": title,
        "grievance": "要求物业公司清理占用的停车位",
    });
    let (s, v) = app.post("/api/v1/cases", CLERK, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

async fn act(app: &TestApp, token: &str, cid: &str, action: &str, body: Value) -> Value {
    let (s, v) = app
        .post(&format!("/api/v1/cases/{cid}/{action}"), token, body)
        .await;
    assert_eq!(s, StatusCode::OK, "{action}: {v}");
    v
}

async fn approved(app: &TestApp, cid: &str) {
    act(app, CLERK, cid, "propose", json!({"text": "拟交办"})).await;
    act(app, DEPUTY, cid, "approve", json!({})).await;
    act(app, SECGEN, cid, "approve", json!({})).await;
}

on_both! {
    every_notice_kind_reaches_a_person => |app: TestApp| async move {
        let rig = rig(&app).await;
        let zheng = app.person("郑国平").await;
        let lin = app.person("林建国").await;
        let zhou = app.person("周敏").await;
        let he = app.person("何静怡").await;

        // An incident, activated: its tasks have assignees.
        let (s, v) = app.post("/api/v1/incidents", "demo-duty-officer", report_body(&app, 120).await).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let iid = v["id"].as_str().unwrap().to_string();
        for (a, who) in [("verify", "demo-duty-officer"), ("assess", "demo-commander"), ("activate", "demo-commander")] {
            let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/{a}"), who, json!({})).await;
            assert_eq!(s, StatusCode::OK, "{a}: {v}");
        }
        // A commitment owed by the post 郑国平 holds, due in an hour.
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/obligations"), "demo-duty-officer",
            json!({"kind": "commitment", "text": "三日内公布工程款结算方案", "owner": "police-commissar", "due_at": "2026-03-02T11:00:00+08:00"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // A second incident, reported up to 云岭市 (whose duty officer is 何静怡).
        let (s, v) = app.post("/api/v1/incidents", "demo-duty-officer", report_body(&app, 600).await).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let up = v["id"].as_str().unwrap().to_string();
        app.post(&format!("/api/v1/incidents/{up}/verify"), "demo-duty-officer", json!({})).await;
        let (s, v) = app.post(&format!("/api/v1/incidents/{up}/escalate"), "demo-duty-officer", json!({"note": "人数超过五百"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");

        // Cases: one whose petitioner gave an e-mail, routed, with a lead; one transferred,
        // whose petitioner gave a phone.
        let cid = new_case(&app, "测试：反映小区停车位被占用", "petitioner@example.org").await;
        approved(&app, &cid).await;
        act(&app, CLERK, &cid, "route", json!({"kind": "assign", "target": "临溪市住建局"})).await;
        act(&app, CLERK, &cid, "lead", json!({"person_id": lin})).await;
        act(&app, CLERK, &cid, "extension-request", json!({"days": 30, "reason": "案情复杂，需多部门会商"})).await;
        act(&app, DEPUTY, &cid, "extension-decision", json!({"approve": true})).await;
        let c2 = new_case(&app, "测试：反映法院执行问题", "138-0000-0001").await;
        approved(&app, &c2).await;
        act(&app, CLERK, &c2, "route", json!({"kind": "transfer", "target": "临溪市人民法院", "notice": "已转临溪市人民法院办理"})).await;

        // A major dispute in 枫林村, reported up to 青石镇.
        let town = app.jurisdiction("青石镇").await;
        let village = app.jurisdiction("枫林村").await;
        let (s, dsp) = app.post("/api/v1/disputes", "demo-town-duty", json!({
            "jurisdiction_id": village, "title": "测试：宅基地界址纠纷",
            "parties": [{"name": "甲户", "role": "申请方"}, {"name": "乙户", "role": "被申请方"}],
            "nature": "土地", "area": "枫林村三组", "risk": "major", "summary": "双方对界址有争议",
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{dsp}");
        let did = dsp["id"].as_str().unwrap();
        let (s, v) = app.post(&format!("/api/v1/disputes/{did}/report-upward"), "demo-town-duty", json!({"reason": "涉及多户，重大疑难"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");

        // Time passes: tasks and the commitment fall due; then the case's supervision steps
        // and its due date.
        app.advance_mins(24 * 60);
        yingji_server::tick(&app.state).await.unwrap();
        app.clock.set("2026-06-20T16:00:00Z".parse().unwrap());
        yingji_server::tick(&app.state).await.unwrap();
        rig.deliver().await;

        // task_overdue: the task's assignee.
        let (_, inc) = app.get(&format!("/api/v1/incidents/{iid}"), "demo-duty-officer").await;
        let task = inc["tasks"].as_array().unwrap().iter().find(|t| !t["assignees"].as_array().unwrap().is_empty()).expect("an assigned task").clone();
        let who = task["assignees"][0]["person_id"].as_str().unwrap();
        let title = task["title"].as_str().unwrap();
        reached(&app, &rig, who, &["测试：群众反映拖欠工程款", title, "已超过时限"]).await;
        // obligation_overdue (a commitment): the holder of its owner post.
        reached(&app, &rig, &zheng, &["承诺事项", "三日内公布工程款结算方案", "2026-03-02 11:00"]).await;
        // An escalation calls the parent jurisdiction's office (its duty officer).
        reached(&app, &rig, &he, &["临溪市报请本级", "人数超过五百", "请确认收到"]).await;
        // extension_requested: the approver post (petition-deputy, 林建国).
        reached(&app, &rig, &lin, &["申请延长办理期限30日", "案情复杂，需多部门会商"]).await;
        // case_supervision: the case's lead.
        reached(&app, &rig, &lin, &["催办通知", "临溪市住建局"]).await;
        // case_overdue: the lead and the office of the case's jurisdiction (周敏 heads it).
        reached(&app, &rig, &zhou, &["已超过办理期限", "临溪市住建局"]).await;
        reached(&app, &rig, &lin, &["已超过办理期限"]).await;
        // petitioner_notice: the contact the petitioner gave, e-mail and SMS; the extension
        // names the reason and the new due date.
        mail(&app, &rig, "petitioner@example.org", &["办理期限延长30日", "案情复杂，需多部门会商", "2026-06-05"]).await;
        rig.sms("138-0000-0001", &["已转临溪市人民法院办理"]);
        // dispute_reported_upward: the office of the parent jurisdiction.
        let office = yingji_app::notices::office(&app.state, town.parse().unwrap()).await.unwrap();
        assert!(!office.is_empty(), "青石镇 has an office");
        reached(&app, &rig, &office[0].person_id.to_string(), &["测试：宅基地界址纠纷", "涉及多户，重大疑难"]).await;
        // A petitioner's contact is never stored in clear.
        let all = app.state.store.list_deliveries(&DeliveryFilter { scope_path: "/".into(), state: None, incident_id: None, channel: None, before: None, limit: 1000 }).await.unwrap();
        assert!(all.iter().all(|d| !d.address.contains("petitioner@") && !d.address.contains("138-0000")));
        for p in app.state.store.outbox_payloads("petitioner_notice").await.unwrap() {
            assert!(!p.contains("petitioner@") && !p.contains("138-0000"), "{p}");
        }

        // report_late: a late village's secretary (the post's holder there).
        let (s, j) = app.post("/api/v1/jurisdictions", ADMIN, json!({"parent_id": town, "name": "测试丙村", "kind": "village"})).await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        let (s, p) = app.post("/api/v1/people", ADMIN, json!({"jurisdiction_id": j["id"], "name": "村书记丙"})).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let vid = p["id"].as_str().unwrap().to_string();
        let (s, h) = app.post(&format!("/api/v1/jurisdictions/{}/holders", j["id"].as_str().unwrap()), ADMIN, json!({"post_id": "village-secretaries", "person_id": vid})).await;
        assert_eq!(s, StatusCode::CREATED, "{h}");
        let body = json!({"channels": [
            {"channel": "webhook", "address": format!("{}/hook/{vid}", rig.base)},
            {"channel": "email", "address": format!("{vid}@example.org")},
        ]});
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/people/{vid}/channels"), Some(ADMIN),
            Some(Body::from(body.to_string())), &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        app.clock.set("2026-08-12T07:01:00Z".parse().unwrap());
        yingji_server::tick(&app.state).await.unwrap();
        rig.deliver().await;
        reached(&app, &rig, &vid, &["测试丙村", "尚未报送"]).await;

        // Every kind the system writes was driven, and nothing was skipped.
        for kind in ["call", "task_overdue", "obligation_overdue", "case_supervision",
            "case_overdue", "extension_requested", "petitioner_notice", "report_late", "dispute_reported_upward"] {
            assert!(!app.state.store.outbox_payloads(kind).await.unwrap().is_empty(), "no {kind} notice was written");
        }
        assert_eq!(app.state.store.outbox_count("skipped").await.unwrap(), 0);
        assert_eq!(app.state.store.outbox_count("pending").await.unwrap(), 0);
    };

    a_supervision_by_hand_reaches_the_lead_with_what_the_office_wrote => |app: TestApp| async move {
        let rig = rig(&app).await;
        let lin = app.person("林建国").await;
        let cid = new_case(&app, "测试：反映小区电梯停运", "13800000000").await;
        approved(&app, &cid).await;
        act(&app, CLERK, &cid, "route", json!({"kind": "assign", "target": "临溪市住建局"})).await;
        act(&app, CLERK, &cid, "lead", json!({"person_id": lin})).await;
        // The city's office, above the county, supervises it by hand.
        act(&app, "demo-city-duty", &cid, "supervise", json!({"step": "chase", "note": "请于三日内报告电梯修复进展"})).await;
        rig.deliver().await;
        reached(&app, &rig, &lin, &["催办通知", "临溪市住建局", "督办意见：请于三日内报告电梯修复进展"]).await;
        // One step taken, one notice written.
        let texts = app.state.store.outbox_payloads("case_supervision").await.unwrap();
        assert_eq!(texts.len(), 1, "{texts:?}");
    };

    a_notice_nobody_can_receive_is_on_the_owning_desk => |app: TestApp| async move {
        let rig = rig(&app).await;
        // The petitioner gave a postal address only: no channel can reach it.
        let cid = new_case(&app, "测试：无联系方式的来信", "枫林村三组").await;
        approved(&app, &cid).await;
        act(&app, CLERK, &cid, "route", json!({"kind": "transfer", "target": "临溪市人民法院", "notice": "已转临溪市人民法院办理"})).await;
        rig.deliver().await;
        assert_eq!(app.state.store.outbox_count("skipped").await.unwrap(), 0);
        let list = app.state.store.list_deliveries(&DeliveryFilter { scope_path: "/".into(), state: Some("undeliverable".into()), incident_id: None, channel: None, before: None, limit: 100 }).await.unwrap();
        let d = list.iter().find(|d| d.subject.contains("信访事项告知")).expect("an undeliverable record");
        assert!(d.last_error.as_deref().unwrap_or("").contains("no contact"), "{d:?}");
        // The county's desk shows it; a town's does not.
        let county = crate::console::sign_in(&app, "demo-duty-officer").await;
        let page = crate::console::req(&app, "GET", "/", &county, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("未送达的通知") && page.body.contains("信访事项告知") && page.body.contains("data-delivery-state=\"undeliverable\""), "{}", page.body);
        let town = crate::console::sign_in(&app, "demo-town-duty").await;
        let page = crate::console::req(&app, "GET", "/", &town, None).await;
        assert!(!page.body.contains("data-delivery-state=\"undeliverable\""));
    };
}

/// With `language = "en"` in the notification configuration, notices are written in English
/// (the catalogue's `en`), drills keep their mark.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_in_the_configured_language() {
    let cfg = yingji_notify::NotifyConfig {
        secret: "s".repeat(40),
        language: "en".into(),
        allow_destinations: crate::harness::loopback_allowed(),
        ..Default::default()
    };
    let app = TestApp::sqlite_with_notify(cfg).await;
    let rig = rig(&app).await;
    let he = app.person("何静怡").await;
    let (s, v) = app
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            report_body(&app, 600).await,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let up = v["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/v1/incidents/{up}/verify"),
        "demo-duty-officer",
        json!({}),
    )
    .await;
    let (s, v) = app
        .post(
            &format!("/api/v1/incidents/{up}/escalate"),
            "demo-duty-officer",
            json!({"note": "over 500 people"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    rig.deliver().await;
    let b = rig.hook(&he, &["reports this to your level", "over 500 people"]);
    assert!(
        b["subject"]
            .as_str()
            .unwrap()
            .contains("测试：群众反映拖欠工程款"),
        "{b}"
    );
    mail(
        &app,
        &rig,
        &format!("{he}@example.org"),
        &["reports this to your level", "Please acknowledge"],
    )
    .await;
}
