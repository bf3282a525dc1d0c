//! Reaching people: calls on activation, acknowledgement by in-app button, signed link and SMS
//! reply, escalation driven by the clock (nobody acknowledges → deputy after 5 min → the parent
//! jurisdiction's office), the gap query.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body};
use crate::on_both;

const ESCALATION: &str = r#"

[[escalation]]
levels = ["II"]

[[escalation.steps]]
after = "5m"
to = "deputy"

[[escalation.steps]]
after = "15m"
to = "parent_office"
post = "city-duty-chief"
"#;

async fn setup(app: &TestApp) -> String {
    // A revision of the county plan with an escalation policy for level II.
    let src = yingji_server::demo::EXAMPLE_PLANS
        .iter()
        .find(|(f, _)| *f == "linxiang-city.toml")
        .unwrap()
        .1;
    let county = app.jurisdiction("临溪市").await;
    let (s, v) = app
        .post(
            "/api/v1/plans",
            "demo-province-admin",
            json!({ "jurisdiction_id": county, "source": format!("{src}{ESCALATION}") }),
        )
        .await;
    assert!(s.is_success(), "{v}");
    // The parent jurisdiction's office: 何静怡 holds the city duty chief post.
    let city = app.jurisdiction("云岭市").await;
    let he = app.person("何静怡").await;
    let (s, v) = app
        .post(
            &format!("/api/v1/jurisdictions/{city}/holders"),
            "demo-province-admin",
            json!({ "post_id": "city-duty-chief", "person_id": he }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = app
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            report_body(app, 120).await,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let iid = v["id"].as_str().unwrap().to_string();
    for (a, who) in [
        ("verify", "demo-duty-officer"),
        ("assess", "demo-commander"),
        ("activate", "demo-commander"),
    ] {
        let (s, v) = app
            .post(&format!("/api/v1/incidents/{iid}/{a}"), who, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{a}: {v}");
    }
    iid
}

async fn call_of(app: &TestApp, iid: &str, post: &str) -> Value {
    let (s, v) = app
        .get(
            &format!("/api/v1/incidents/{iid}/calls"),
            "demo-duty-officer",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["post"] == post)
        .unwrap_or_else(|| panic!("a call to {post}: {v}"))
        .clone()
}

fn names(call: &Value) -> Vec<(String, String)> {
    call["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["person"]["name"].as_str().unwrap().to_string(),
                r["reached_as"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn timeline(app: &TestApp, iid: &str) -> Vec<Value> {
    let (_, v) = app
        .get(
            &format!("/api/v1/incidents/{iid}/timeline"),
            "demo-duty-officer",
        )
        .await;
    v["items"].as_array().unwrap().clone()
}

on_both! {
    nobody_acknowledges_then_deputy_then_parent_office => |app: TestApp| async move {
        let iid = setup(&app).await;
        let call = call_of(&app, &iid, "police-commissar").await;
        assert_eq!(names(&call), vec![("郑国平".to_string(), "holder".to_string())]);
        // The worker writes the in-app message.
        app.state.notify.run_once().await.unwrap();
        let (_, inbox) = app.get("/api/v1/inbox", "demo-group-member").await;
        let msg = inbox["items"].as_array().unwrap().iter().find(|m| m["incident_id"] == iid.as_str()).expect("in-app message").clone();
        assert!(msg["text"].as_str().unwrap().contains("请确认收到"), "{msg}");
        assert_eq!(msg["acknowledged"], false);

        // 4 minutes: nothing yet.
        app.advance_mins(4);
        yingji_server::tick(&app.state).await.unwrap();
        assert_eq!(names(&call_of(&app, &iid, "police-commissar").await).len(), 1);
        // 5 minutes: the deputy is called.
        app.advance_mins(1);
        yingji_server::tick(&app.state).await.unwrap();
        let c = call_of(&app, &iid, "police-commissar").await;
        assert_eq!(names(&c)[1], ("冯磊".to_string(), "deputy".to_string()));
        // 15 minutes: the parent jurisdiction's office.
        app.advance_mins(10);
        yingji_server::tick(&app.state).await.unwrap();
        let c = call_of(&app, &iid, "police-commissar").await;
        assert_eq!(names(&c)[2], ("何静怡".to_string(), "parent_office".to_string()));
        assert_eq!(c["answered"], false);
        // Both escalations are in the incident's timeline; a second tick adds nothing.
        let tl = timeline(&app, &iid).await;
        let esc: Vec<&Value> = tl.iter().filter(|e| e["kind"] == "call_escalated" && e["payload"]["call_id"] == c["id"]).collect();
        assert_eq!(esc.len(), 2);
        assert_eq!(esc[0]["payload"]["target"], "deputy");
        assert_eq!(esc[1]["payload"]["target"], "parent_office");
        let before = app.event_count().await;
        yingji_server::tick(&app.state).await.unwrap();
        assert_eq!(app.event_count().await, before);
        // The escalation reached 何静怡 through the outbox.
        app.state.notify.run_once().await.unwrap();
        let (_, inbox) = app.get("/api/v1/inbox", "demo-city-duty").await;
        assert!(inbox["items"].as_array().unwrap().iter().any(|m| m["text"].as_str().unwrap().contains("升级通知")), "{inbox}");

        // 郑国平 acknowledges with the in-app button: in the timeline with channel and time.
        let (s, v) = app.post(&format!("/api/v1/inbox/{}/ack", msg["id"].as_str().unwrap()), "demo-group-member", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!((v["new"].clone(), v["answered"].clone()), (json!(true), json!(true)));
        let (_, v) = app.post(&format!("/api/v1/calls/{}/ack", c["id"].as_str().unwrap()), "demo-group-member", json!({})).await;
        assert_eq!(v["new"], false, "a second acknowledgement changes nothing");
        let tl = timeline(&app, &iid).await;
        let ack = tl.iter().find(|e| e["kind"] == "call_acknowledged").expect("ack in timeline");
        assert_eq!(ack["payload"]["channel"], "inapp");
        assert_eq!(ack["payload"]["person"]["name"], "郑国平");
        assert!(ack["payload"]["at"].as_str().unwrap().starts_with("2026-03-02T02:15:00"));
    };

    acknowledge_by_signed_link_and_sms_reply => |app: TestApp| async move {
        let iid = setup(&app).await;
        app.state.notify.run_once().await.unwrap();
        // 郑国平 opens his link: a page, then a POST.
        let (_, inbox) = app.get("/api/v1/inbox", "demo-group-member").await;
        let msg = inbox["items"].as_array().unwrap().iter().find(|m| m["incident_id"] == iid.as_str()).unwrap().clone();
        let d = app.state.store.delivery(msg["id"].as_str().unwrap().parse().unwrap()).await.unwrap().unwrap();
        let url = d.ack_url.unwrap();
        let path = &url[url.find("/ack/").unwrap()..];
        let (s, page, h) = app.send(Method::GET, path, None, None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        let html = page.as_str().unwrap();
        assert!(html.contains("method=\"post\""));
        // Rendered as designed under the security policy: the console's stylesheet, no inline
        // style or script; the reader's language.
        assert!(h.get("content-security-policy").unwrap().to_str().unwrap().starts_with("default-src 'self'"));
        assert!(html.contains("href=\"/static/console.css\"") && html.contains("确认收到通知"), "{html}");
        assert!(!html.contains("<style") && !html.contains("style=") && !html.contains("<script"), "{html}");
        let (s, page, _) = app.send(Method::GET, path, None, None, &[("accept-language", "en")]).await;
        assert_eq!(s, StatusCode::OK);
        assert!(page.as_str().unwrap().contains("Acknowledge the call") && page.as_str().unwrap().contains("I have received it"), "{page}");
        let (s, icon, h) = app.send(Method::GET, "/favicon.ico", None, None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h.get("content-type").unwrap(), "image/svg+xml");
        assert!(icon.as_str().unwrap().starts_with("<svg"), "{icon}");
        assert!(!timeline(&app, &iid).await.iter().any(|e| e["kind"] == "call_acknowledged"), "opening the page acknowledges nothing");
        let (s, page, _) = app.send(Method::POST, path, None, None, &[]).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(page.as_str().unwrap().contains("已确认收到"));
        // A forged token (its last character changed) is refused.
        let last = if path.ends_with('x') { 'y' } else { 'x' };
        let (s, _, _) = app.send(Method::POST, &format!("{}{last}", &path[..path.len() - 1]), None, None, &[]).await;
        assert_eq!(s, StatusCode::NOT_FOUND);

        // Another recipient replies "收到" by SMS.
        let (_, calls) = app.get(&format!("/api/v1/incidents/{iid}/calls"), "demo-duty-officer").await;
        let other = calls["items"].as_array().unwrap().iter()
            .flat_map(|c| c["recipients"].as_array().unwrap().clone())
            .find(|r| r["person"]["name"] != "郑国平").expect("a second recipient");
        let other_name = other["person"]["name"].as_str().unwrap().to_string();
        let zhou = other["person"]["person_id"].as_str().unwrap().to_string();
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/people/{zhou}/channels"), Some("demo-province-admin"),
            Some(Body::from(json!({"channels": [{"channel": "sms", "address": "13900000042"}]}).to_string())),
            &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let body = json!({"from": "13900000042", "text": " 收到 "}).to_string();
        let (s, _, _) = app.send(Method::POST, "/api/v1/sms/inbound", None, Some(Body::from(body.clone())),
            &[("content-type", "application/json"), ("x-yingji-signature", "00")]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let sig = yingji_notify::channels::hmac_hex(app.state.notify.config().secret.as_bytes(), body.as_bytes());
        let (s, v, _) = app.send(Method::POST, "/api/v1/sms/inbound", None, Some(Body::from(body)),
            &[("content-type", "application/json"), ("x-yingji-signature", &sig)]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["new"], true, "{v}");

        let tl = timeline(&app, &iid).await;
        let acks: Vec<(String, String)> = tl.iter().filter(|e| e["kind"] == "call_acknowledged")
            .map(|e| (e["payload"]["person"]["name"].as_str().unwrap().into(), e["payload"]["channel"].as_str().unwrap().into())).collect();
        assert!(acks.contains(&("郑国平".into(), "link".into())), "{acks:?}");
        assert!(acks.contains(&(other_name, "sms".into())), "{acks:?}");
    };

    an_sms_reply_from_a_sealed_directory_phone_acknowledges => |app: TestApp| async move {
        let iid = setup(&app).await;
        app.state.notify.run_once().await.unwrap();
        let (_, calls) = app.get(&format!("/api/v1/incidents/{iid}/calls"), "demo-duty-officer").await;
        let who = calls["items"].as_array().unwrap().iter()
            .flat_map(|c| c["recipients"].as_array().unwrap().clone())
            .next().expect("a recipient");
        let pid: uuid::Uuid = who["person"]["person_id"].as_str().unwrap().parse().unwrap();
        // The directory keeps the phone sealed (random nonce): no SQL equality can find it.
        let sealed = app.state.sealer.seal("13900000077", &yingji_app::phone_aad(pid));
        let sql = if app.state.store.backend() == yingji_store::Backend::Postgres {
            "UPDATE people SET phone = $1 WHERE id = $2::uuid"
        } else {
            "UPDATE people SET phone = ? WHERE id = ?"
        };
        sqlx::query(sql)
            .bind(sealed).bind(pid.to_string()).execute(app.state.store.pool()).await.unwrap();
        app.state.store.invalidate();
        let body = json!({"from": "13900000077", "text": "收到"}).to_string();
        let sig = yingji_notify::channels::hmac_hex(app.state.notify.config().secret.as_bytes(), body.as_bytes());
        let (s, v, _) = app.send(Method::POST, "/api/v1/sms/inbound", None, Some(Body::from(body)),
            &[("content-type", "application/json"), ("x-yingji-signature", &sig)]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["new"], true, "{v}");
        let acks: Vec<String> = timeline(&app, &iid).await.iter().filter(|e| e["kind"] == "call_acknowledged")
            .map(|e| e["payload"]["person"]["person_id"].as_str().unwrap_or_default().to_string()).collect();
        assert!(acks.contains(&pid.to_string()), "{acks:?}");
    };

    gaps_and_resolve_through_a_roster => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let wang = app.person("王晓明").await;
        let lin = app.person("林建国").await;
        // A day-shift roster for the duty post: nights are a gap.
        let roster = json!({
            "time_zone": "Asia/Shanghai", "start_date": "2026-03-02",
            "shifts": [{"id": "day", "name": "白班", "start": "08:30", "end": "17:30"}],
            "rotation": [{"person_id": wang, "name": "王晓明"}, {"person_id": lin, "name": "林建国"}],
            "swaps": [{"a": {"date": "2026-03-02", "shift": "day"}, "b": {"date": "2026-03-03", "shift": "day"}}],
        });
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/jurisdictions/{county}/rosters/duty-officer"), Some("demo-province-admin"),
            Some(Body::from(roster.to_string())), &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, v) = app.get(&format!("/api/v1/jurisdictions/{county}/resolve?post=duty-officer&at=2026-03-02T02:00:00Z"), "demo-duty-officer").await;
        assert_eq!(v["resolved"]["people"][0]["name"], "林建国", "{v}");
        assert_eq!(v["resolved"]["via"], "swap");
        let (_, v) = app.get(&format!("/api/v1/jurisdictions/{county}/resolve?post=duty-officer&at=2026-03-04T02:00:00Z"), "demo-duty-officer").await;
        assert_eq!(v["resolved"]["people"][0]["name"], "王晓明", "{v}");
        let (s, v) = app.get(&format!("/api/v1/jurisdictions/{county}/gaps?plan=linxiang-city-mass-petition&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z"), "demo-duty-officer").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let items = v["items"].as_array().unwrap();
        assert!(!items.iter().any(|g| g["post"] == "police-commissar"), "held all day");
        assert!(!items.iter().any(|g| g["post"] == "deputy-secretary"));
        // A bad roster is refused with a stable code and stores nothing.
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/jurisdictions/{county}/rosters/duty-officer"), Some("demo-province-admin"),
            Some(Body::from(json!({"start_date": "2026-03-02", "shifts": [], "rotation": []}).to_string())), &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(v["error"]["code"], "roster_without_shift");
    };

    notification_and_plan_writes_reach_live_subscribers => |app: TestApp| async move {
        // Rosters, channels and plans are written through the command path, so a live page in
        // scope learns of them like of any other write.
        let county = app.jurisdiction("临溪市").await;
        let wang = app.person("王晓明").await;
        let mut rx = app.state.subscribe();
        let roster = json!({
            "time_zone": "Asia/Shanghai", "start_date": "2026-03-02",
            "shifts": [{"id": "day", "name": "白班", "start": "08:30", "end": "17:30"}],
            "rotation": [{"person_id": wang, "name": "王晓明"}],
        });
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/jurisdictions/{county}/rosters/duty-officer"), Some("demo-duty-officer"),
            Some(Body::from(roster.to_string())), &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/people/{wang}/channels"), Some("demo-duty-officer"),
            Some(Body::from(json!({"channels": [{"channel": "sms", "address": "13900000099"}]}).to_string())),
            &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["channels"][0]["address"], "139****0099", "masked in the answer");
        let src = yingji_server::demo::EXAMPLE_PLANS.iter().find(|(f, _)| *f == "linxiang-city.toml").unwrap().1;
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer",
            json!({ "jurisdiction_id": county, "source": format!("{src}\n# revised\n") })).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let mut kinds = Vec::new();
        while let Ok(c) = rx.try_recv() {
            assert!(c.jurisdiction_path.starts_with("/"), "{c:?}");
            kinds.push(c.stream_kind);
        }
        assert_eq!(kinds, vec!["roster", "person", "plan"]);
        // The same text again stores nothing and publishes nothing.
        let (s, _) = app.post("/api/v1/plans", "demo-duty-officer",
            json!({ "jurisdiction_id": county, "source": format!("{src}\n# revised\n") })).await;
        assert_eq!(s, StatusCode::OK);
        assert!(rx.try_recv().is_err());
    };

    only_a_dead_delivery_is_retried => |app: TestApp| async move {
        // A webhook receiver that answers 410 Gone: a permanent failure, dead at once.
        let gone = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gone_at = format!("http://{}/hook", gone.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = gone.accept().await else { return };
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = vec![0u8; 65536];
                    let _ = sock.read(&mut buf).await;
                    let _ = sock.write_all(b"HTTP/1.1 410 Gone\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                });
            }
        });
        let iid = setup(&app).await;
        // Everyone called has that webhook as a channel too.
        let (_, calls) = app.get(&format!("/api/v1/incidents/{iid}/calls"), "demo-duty-officer").await;
        let mut people: Vec<String> = calls["items"].as_array().unwrap().iter()
            .flat_map(|c| c["recipients"].as_array().unwrap().iter().map(|r| r["person"]["person_id"].as_str().unwrap().to_string()))
            .collect();
        people.dedup();
        assert!(!people.is_empty(), "{calls}");
        for p in &people {
            let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/people/{p}/channels"), Some("demo-duty-officer"),
                Some(Body::from(json!({"channels": [{"channel": "webhook", "address": gone_at}]}).to_string())),
                &[("content-type", "application/json")]).await;
            assert_eq!(s, StatusCode::OK, "{v}");
        }
        app.state.notify.run_once().await.unwrap();
        let (_, list) = app.get(&format!("/api/v1/deliveries?incident_id={iid}"), "demo-duty-officer").await;
        let d = list["items"].as_array().unwrap().iter().find(|d| d["channel"] == "inapp").expect("an in-app delivery").clone();
        let id = d["id"].as_str().unwrap().to_string();
        assert_eq!(d["state"], "sent");
        // A delivered message is not dead: refused, nothing changed.
        let (s, v) = app.post(&format!("/api/v1/deliveries/{id}/retry"), "demo-duty-officer", json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT, "{v}");
        assert_eq!(v["error"]["code"], "delivery_not_dead");
        // Without `manage_notifications` (the auditor), refused before anything else.
        let (s, v) = app.post(&format!("/api/v1/deliveries/{id}/retry"), "demo-auditor", json!({})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        // A dead letter (the webhook answered 410) goes back in the queue once.
        let (_, list) = app.get(&format!("/api/v1/deliveries?incident_id={iid}&state=dead"), "demo-duty-officer").await;
        let d = list["items"].as_array().unwrap().iter().find(|d| d["channel"] == "webhook").expect("a dead webhook delivery").clone();
        let id = d["id"].as_str().unwrap().to_string();
        let (s, v) = app.post(&format!("/api/v1/deliveries/{id}/retry"), "demo-duty-officer", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v, json!({"id": id, "state": "pending"}));
        let row = app.state.store.delivery(id.parse().unwrap()).await.unwrap().unwrap();
        assert_eq!((row.state.as_str(), row.attempts), ("pending", 0));
        // Who put it back is in the log: an event in the delivery's own stream.
        let events = app.state.store.stream_events(id.parse().unwrap()).await.unwrap();
        let who: Vec<(&str, &str, &str)> = events.iter().map(|e| (e.envelope.stream_kind.as_str(), e.envelope.kind.as_str(), e.envelope.actor_name.as_str())).collect();
        assert_eq!(who, vec![("delivery", "delivery_retried", "王晓明")]);
        let (s, _) = app.post(&format!("/api/v1/deliveries/{id}/retry"), "demo-duty-officer", json!({})).await;
        assert_eq!(s, StatusCode::CONFLICT);
    };

    openapi_names_the_schemas_of_notify_and_plan_operations => |app: TestApp| async move {
        let (s, v, _) = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        let schema = |path: &str, method: &str, status: &str| -> String {
            v["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]["$ref"]
                .as_str().unwrap_or_else(|| panic!("{method} {path} {status} names no schema")).to_string()
        };
        for (path, method, status, name) in [
            ("/api/v1/incidents/{id}/calls", "get", "200", "IncidentCalls"),
            ("/api/v1/calls/{id}/ack", "post", "200", "AckAnswer"),
            ("/api/v1/inbox", "get", "200", "Inbox"),
            ("/api/v1/inbox/{id}/ack", "post", "200", "AckAnswer"),
            ("/api/v1/deliveries", "get", "200", "DeliveryList"),
            ("/api/v1/deliveries/{id}/retry", "post", "200", "Retried"),
            ("/api/v1/sms/inbound", "post", "200", "SmsAnswer"),
            ("/api/v1/people/{id}/channels", "put", "200", "PersonChannels"),
            ("/api/v1/people/{id}/channels", "get", "200", "PersonChannels"),
            ("/api/v1/jurisdictions/{id}/rosters/{post}", "put", "200", "Roster"),
            ("/api/v1/jurisdictions/{id}/rosters", "get", "200", "RosterList"),
            ("/api/v1/jurisdictions/{id}/resolve", "get", "200", "Resolution"),
            ("/api/v1/jurisdictions/{id}/gaps", "get", "200", "Gaps"),
            ("/api/v1/plans", "post", "201", "PlanVersion"),
            ("/api/v1/plans", "get", "200", "PlanList"),
            ("/api/v1/plans/{plan_id}", "get", "200", "PlanVersion"),
            ("/api/v1/plans/{plan_id}/versions/{version}", "get", "200", "PlanVersion"),
        ] {
            assert_eq!(schema(path, method, status), format!("#/components/schemas/{name}"));
            assert!(v["components"]["schemas"][name].is_object(), "{name} is not in the components");
        }
        for (path, method, name) in [
            ("/api/v1/plans", "post", "UploadPlanRequest"),
            ("/api/v1/people/{id}/channels", "put", "ChannelsRequest"),
            ("/api/v1/jurisdictions/{id}/rosters/{post}", "put", "Roster"),
            ("/api/v1/sms/inbound", "post", "SmsReply"),
        ] {
            assert_eq!(v["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"],
                format!("#/components/schemas/{name}"), "{method} {path}");
        }
        // Every schema these name is in the document.
        let text = v.to_string();
        let mut at = 0;
        while let Some(i) = text[at..].find("#/components/schemas/") {
            let start = at + i + "#/components/schemas/".len();
            let end = start + text[start..].find('"').unwrap();
            let name = &text[start..end];
            assert!(v["components"]["schemas"][name].is_object(), "{name} is referenced but missing");
            at = end;
        }
    };

    roster_holidays_are_the_case_calendar => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let wang = app.person("王晓明").await;
        let lin = app.person("林建国").await;
        let zhao = app.person("高文静").await;
        // A day shift for 王晓明 and 林建国; 高文静 covers public holidays.
        let roster = json!({
            "time_zone": "Asia/Shanghai", "start_date": "2026-09-28",
            "shifts": [{"id": "day", "name": "白班", "start": "08:30", "end": "17:30"}],
            "rotation": [{"person_id": wang, "name": "王晓明"}, {"person_id": lin, "name": "林建国"}],
            "holiday_rotation": [{"person_id": zhao, "name": "高文静"}],
        });
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/jurisdictions/{county}/rosters/duty-officer"), Some("demo-province-admin"),
            Some(Body::from(roster.to_string())), &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let via = |at: &'static str| {
            let app = &app;
            let county = county.clone();
            async move {
                let (s, v) = app.get(&format!("/api/v1/jurisdictions/{county}/resolve?post=duty-officer&at={at}"), "demo-duty-officer").await;
                assert_eq!(s, StatusCode::OK, "{v}");
                (v["resolved"]["via"].as_str().unwrap_or_default().to_string(), v["resolved"]["people"][0]["name"].as_str().unwrap_or_default().to_string())
            }
        };
        // 国庆节 (1–7 Oct 2026, from the built-in calendar; the notification configuration
        // names no holiday): the holiday rotation, on the weekend inside it too.
        assert_eq!(via("2026-10-01T02:00:00Z").await, ("holiday".to_string(), "高文静".to_string()));
        assert_eq!(via("2026-10-04T02:00:00Z").await.0, "holiday");
        // Saturday 10 Oct is a 调休 working day: the ordinary rotation.
        assert_eq!(via("2026-10-10T02:00:00Z").await.0, "rotation");
        // 1 January 2027: no file yet, a holiday by rule.
        assert_eq!(via("2027-01-01T02:00:00Z").await.0, "holiday");
        // The calendar the application is given (`--calendars`) is the one rosters use.
        let id: uuid::Uuid = county.parse().unwrap();
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let bare_2026 = "name = 'x'\nyears = [2026]\n";
        let (calendar, _) = yingji_domain::calendar::Calendar::builtin_with([bare_2026]).unwrap();
        let other = yingji_server::AppState::new(app.state.store.clone(), app.state.clock.clone())
            .with_case_rules(yingji_server::CaseRules { calendar, ..Default::default() });
        let r = yingji_server::calls::resolve_post(&other, id, "duty-officer", at("2026-10-01T02:00:00Z")).await.unwrap();
        assert_eq!(r.via, Some(yingji_domain::roster::Via::Rotation));
        // The notification configuration's (deprecated) `holidays` still add to the calendar.
        let cfg = yingji_notify::NotifyConfig {
            holidays: vec![jiff::civil::date(2026, 10, 12)],
            ..Default::default()
        };
        let extra = yingji_server::AppState::with_notify(app.state.store.clone(), app.state.clock.clone(), cfg).unwrap();
        for (t, want) in [("2026-10-12T02:00:00Z", "holiday"), ("2026-10-01T02:00:00Z", "holiday"), ("2026-10-10T02:00:00Z", "rotation")] {
            let r = yingji_server::calls::resolve_post(&extra, id, "duty-officer", at(t)).await.unwrap();
            assert_eq!(serde_json::to_value(r.via).unwrap(), want, "{t}");
        }
    };
}

/// Every request a receiver on loopback got: (X-Yingji-Message-Id header, body).
type Hooked = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;

async fn hook_receiver() -> (String, u16, Hooked) {
    let got: Hooked = Default::default();
    let g = got.clone();
    let app = axum::Router::new().fallback(move |headers: axum::http::HeaderMap, body: String| {
        let g = g.clone();
        async move {
            let id = headers
                .get("x-yingji-message-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            g.lock().unwrap().push((
                id,
                serde_json::from_str(&body).unwrap_or(Value::String(body)),
            ));
            StatusCode::OK
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://127.0.0.1:{port}/hook"), port, got)
}

async fn put_channels(
    app: &TestApp,
    person: &str,
    token: &str,
    channels: Value,
) -> (StatusCode, Value) {
    let (s, v, _) = app
        .send(
            Method::PUT,
            &format!("/api/v1/people/{person}/channels"),
            Some(token),
            Some(Body::from(json!({"channels": channels}).to_string())),
            &[("content-type", "application/json")],
        )
        .await;
    (s, v)
}

/// The people an incident's calls reach.
async fn called_people(app: &TestApp, iid: &str) -> Vec<String> {
    let (_, calls) = app
        .get(
            &format!("/api/v1/incidents/{iid}/calls"),
            "demo-duty-officer",
        )
        .await;
    let mut people: Vec<String> = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["recipients"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["person"]["person_id"].as_str().unwrap().to_string())
        })
        .collect();
    people.sort();
    people.dedup();
    assert!(!people.is_empty(), "{calls}");
    people
}

/// People's own webhook and robot URLs may not reach this machine or internal networks when the
/// notification configuration allows none: refused when saved (400 `destination_not_allowed`),
/// and — for addresses stored before the rule, or names that resolve there — refused when
/// sending, a dead letter with the reason, while the receiver gets nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn destinations_on_this_machine_or_internal_networks_are_refused() {
    let (url, port, got) = hook_receiver().await;
    let cfg = yingji_notify::NotifyConfig {
        secret: "s".repeat(40),
        ..Default::default()
    };
    let app = TestApp::sqlite_with_notify(cfg).await;
    let wang = app.person("王晓明").await;
    for (channel, address, host) in [
        ("webhook", url.clone(), "127.0.0.1"),
        ("webhook", format!("http://[::1]:{port}/hook"), "[::1]"),
        (
            "webhook",
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "169.254.169.254",
        ),
        ("webhook", "http://localhost:5432/".to_string(), "localhost"),
        (
            "webhook",
            "http://2130706433:5432/".to_string(),
            "127.0.0.1",
        ),
        (
            "wecom",
            "http://10.0.0.8/cgi-bin/webhook/send?key=k".to_string(),
            "10.0.0.8",
        ),
        (
            "feishu",
            "http://[::ffff:192.168.1.1]/hook".to_string(),
            "[::ffff:c0a8:101]",
        ),
        (
            "dingtalk",
            "http://100.100.100.200/robot/send".to_string(),
            "100.100.100.200",
        ),
    ] {
        let (s, v) = put_channels(
            &app,
            &wang,
            "demo-duty-officer",
            json!([{"channel": channel, "address": address}]),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{address}: {v}");
        assert_eq!(v["error"]["code"], "destination_not_allowed", "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(&address),
            "{v}"
        );
        assert_eq!(v["error"]["details"]["host"], host, "{v}");
        assert_eq!(v["error"]["details"]["address"], address.as_str(), "{v}");
    }
    let (_, v) = app
        .get(
            &format!("/api/v1/people/{wang}/channels"),
            "demo-duty-officer",
        )
        .await;
    assert_eq!(v["channels"], json!([]), "nothing was stored");
    // A name is saved: it is checked on what it resolves to, when a message is sent.
    let (s, v) = put_channels(
        &app,
        &wang,
        "demo-duty-officer",
        json!([{"channel": "webhook", "address": "https://hooks.example.org/yingji"}]),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = put_channels(&app, &wang, "demo-duty-officer", json!([])).await;
    assert_eq!(s, StatusCode::OK);

    // Addresses stored before the rule (written straight to the table): a loopback literal and
    // `localhost`, which the resolver finds on loopback when connecting.
    let iid = setup(&app).await;
    let people = called_people(&app, &iid).await;
    let mut ws = yingji_store::WriteSet::default();
    for (n, p) in people.iter().enumerate() {
        let address = if n % 2 == 0 {
            url.clone()
        } else {
            format!("http://localhost:{port}/hook")
        };
        ws.rows.push(yingji_store::Row::Directory(
            yingji_store::DirectoryWrite::Channels {
                person_id: p.parse().unwrap(),
                channels: vec![("webhook".into(), address)],
            },
        ));
    }
    app.state.store.commit(ws).await.unwrap();
    let r = app.state.notify.run_once().await.unwrap();
    assert_eq!((r.sent, r.failed), (0, 0), "{r:?}");
    assert!(r.dead >= people.len(), "{r:?}");
    assert!(got.lock().unwrap().is_empty(), "the receiver got nothing");
    let (_, list) = app
        .get(
            &format!("/api/v1/deliveries?incident_id={iid}&channel=webhook"),
            "demo-duty-officer",
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), people.len(), "{list}");
    for d in items {
        assert_eq!(d["state"], "dead", "{d}");
        let e = d["last_error"].as_str().unwrap();
        assert!(
            e == "destination not allowed: 127.0.0.1 is a loopback address"
                || (e.starts_with("destination not allowed: localhost (")
                    && e.ends_with(") is a loopback address")),
            "{e}"
        );
    }
    // The in-app messages went as always.
    let (_, list) = app
        .get(
            &format!("/api/v1/deliveries?incident_id={iid}&channel=inapp"),
            "demo-duty-officer",
        )
        .await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "sent"),
        "{list}"
    );
}

/// With loopback in `allow_destinations` (as every other test application has it), the same
/// receiver gets the message, with its id in the X-Yingji-Message-Id header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_destination_on_loopback_receives_the_message() {
    let (url, port, got) = hook_receiver().await;
    let app = TestApp::sqlite().await;
    let iid = setup(&app).await;
    let people = called_people(&app, &iid).await;
    for (n, p) in people.iter().enumerate() {
        let address = if n % 2 == 0 {
            url.clone()
        } else {
            format!("http://localhost:{port}/hook")
        };
        let (s, v) = put_channels(
            &app,
            p,
            "demo-province-admin",
            json!([{"channel": "webhook", "address": address}]),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let r = app.state.notify.run_once().await.unwrap();
    assert_eq!((r.failed, r.dead), (0, 0), "{r:?}");
    let got = got.lock().unwrap().clone();
    let ours: Vec<&(String, Value)> = got
        .iter()
        .filter(|(_, b)| b["incident_id"] == iid.as_str())
        .collect();
    assert_eq!(ours.len(), people.len(), "{got:?}");
    for (id, body) in ours {
        assert_eq!(body["message_id"].as_str().unwrap(), id, "{body}");
        assert_eq!(body["incident_id"], iid.as_str());
    }
    let (_, list) = app
        .get(
            &format!("/api/v1/deliveries?incident_id={iid}&channel=webhook"),
            "demo-duty-officer",
        )
        .await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["state"] == "sent"),
        "{list}"
    );
}
