//! Trust, second round (issue 18): the side doors. Console sessions instead of tokens in
//! cookies, sign-out and disabling that end streams and calls, acknowledgement links and
//! addresses only for their owner, addresses sealed at rest, lockout that parallel attempts
//! cannot outrun, and the smaller holes (scope of case leads and linked incidents, NUL in text,
//! the plan-id oracle, the reveal log for auditors).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{TestApp, report_body};
use crate::offers::{console_sign_in_cookies, csrf_of};
use crate::on_both;

const PW: &str = yingji_app::accounts::DEMO_PASSWORD;

/// Signs in on the console's token form of `router`; answers the whole `Set-Cookie` of the
/// session.
async fn token_sign_in(router: &Router, token: &str) -> String {
    let cookies = console_sign_in_cookies(router, token).await;
    assert!(
        cookies.iter().all(|c| !c.contains(token)),
        "the token itself is never a cookie: {cookies:?}"
    );
    cookies
        .into_iter()
        .find(|c| c.starts_with("yingji_session=") && !c.contains("Max-Age=0"))
        .expect("a session cookie")
}

async fn page(router: &Router, path: &str, cookie: &str) -> (StatusCode, String) {
    let r = router
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let s = r.status();
    let b = r.into_body().collect().await.unwrap().to_bytes();
    (s, String::from_utf8_lossy(&b).into_owned())
}

/// Opens a server-sent-event stream; the task ends when the server ends the stream.
async fn open_stream(
    router: &Router,
    path: &str,
    headers: &[(&str, &str)],
) -> tokio::task::JoinHandle<()> {
    let mut b = Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = router
        .clone()
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{path}");
    let mut body = resp.into_body();
    tokio::spawn(async move { while let Some(Ok(_)) = body.frame().await {} })
}

/// Whether a stream has ended within `d`.
async fn ends_within(stream: tokio::task::JoinHandle<()>, d: Duration) -> bool {
    tokio::time::timeout(d, stream).await.is_ok()
}

on_both! {
    console_token_sign_in_keeps_a_session_not_the_token => |app: TestApp| async move {
        let set = token_sign_in(&app.router, "demo-duty-officer").await;
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Max-Age="), "{set}");
        assert!(!set.contains("Secure"), "not Secure unless secure_cookie: {set}");
        let cookie = set.split(';').next().unwrap().to_string();
        let (s, html) = page(&app.router, "/", &cookie).await;
        assert_eq!(s, StatusCode::OK);
        // Signing out revokes the session on the server: the same cookie no longer opens a page.
        let csrf = csrf_of(&html);
        let r = app.router.clone().oneshot(
            Request::post("/signout")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={csrf}")))
                .unwrap(),
        ).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let (s, _) = page(&app.router, "/", &cookie).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "a signed-out session is refused");
        // Under secure_cookie every credential cookie is Secure.
        let trust = yingji_app::trust::TrustConfig { secure_cookie: true, ..Default::default() };
        let secure = yingji_server::app(app.state.clone().with_trust(trust));
        let set = token_sign_in(&secure, "demo-duty-officer").await;
        assert!(set.contains("; Secure"), "{set}");
        let r = secure.clone().oneshot(Request::get("/signin").body(Body::empty()).unwrap()).await.unwrap();
        let pre = r.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(pre.contains("; Secure"), "the sign-in form's secret too: {pre}");
    };

    signing_out_or_disabling_ends_open_streams => |app: TestApp| async move {
        // The console's live stream ends when its session is signed out (from another tab).
        let set = token_sign_in(&app.router, "demo-duty-officer").await;
        let cookie = set.split(';').next().unwrap().to_string();
        let (_, html) = page(&app.router, "/", &cookie).await;
        let live = open_stream(&app.router, "/live", &[("cookie", &cookie)]).await;
        let r = app.router.clone().oneshot(
            Request::post("/signout")
                .header(header::COOKIE, &cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={}", csrf_of(&html))))
                .unwrap(),
        ).await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert!(ends_within(live, Duration::from_secs(8)).await, "the live stream ended with its session");

        // An API token's inbox stream ends when the person is disabled.
        let (s, t) = app.post("/api/v1/me/tokens", "demo-group-member", json!({"name": "值班终端"})).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let token = t["token"].as_str().unwrap().to_string();
        let auth = format!("Bearer {token}");
        let inbox = open_stream(&app.router, "/api/v1/inbox/stream", &[("authorization", &auth)]).await;
        let other = open_stream(&app.router, "/api/v1/inbox/stream", &[("authorization", "Bearer demo-duty-officer")]).await;
        let member = app.person("郑国平").await;
        let (s, v) = app.post(&format!("/api/v1/people/{member}/disable"), "demo-province-admin", json!({"reason": "调离岗位"})).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        assert!(ends_within(inbox, Duration::from_secs(8)).await, "the disabled person's stream ended");
        assert!(!other.is_finished(), "someone else's stream goes on");
        other.abort();
    };

    a_disabled_person_is_not_called_as_a_post_holder => |app: TestApp| async move {
        let county: uuid::Uuid = app.jurisdiction("临溪市").await.parse().unwrap();
        let before = app.state.holders(county).await.unwrap();
        let (post, people) = before.iter().find(|(_, p)| !p.is_empty()).expect("a held post");
        let who = people[0].clone();
        let (s, v) = app.post(&format!("/api/v1/people/{}/disable", who.person_id), "demo-province-admin", json!({"reason": "停职"})).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        let after = app.state.holders(county).await.unwrap();
        assert!(after.get(post).is_none_or(|p| p.iter().all(|x| x.person_id != who.person_id)), "{} still holds {post}", who.name);
        // A response activated now calls no one disabled.
        let mut body = report_body(&app, 30).await;
        body["title"] = json!("停职后的来访");
        let (s, inc) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        let id = inc["id"].as_str().unwrap();
        for (a, t) in [("verify", "demo-duty-officer"), ("assess", "demo-commander"), ("activate", "demo-commander")] {
            if who.name == "王晓明" && t == "demo-duty-officer" || who.name == "李卫东" && t == "demo-commander" {
                continue;
            }
            let (_, _) = app.post(&format!("/api/v1/incidents/{id}/{a}"), t, json!({})).await;
        }
        let (_, calls) = app.get(&format!("/api/v1/incidents/{id}/calls"), "demo-province-admin").await;
        let called: Vec<String> = calls["items"].as_array().unwrap().iter()
            .flat_map(|c| c["recipients"].as_array().unwrap().clone())
            .map(|r| r["person"]["person_id"].as_str().unwrap().to_string())
            .collect();
        assert!(!called.contains(&who.person_id.to_string()), "{} was called while disabled", who.name);
    };

    acknowledgement_links_and_addresses_are_their_owners_alone => |app: TestApp| async move {
        let me = app.person("郑国平").await;
        let chans = json!({"channels": [
            {"channel": "webhook", "address": "https://hooks.example.org/yj/secret-key-7781"},
            {"channel": "email", "address": "zheng.gp@example.org"},
            {"channel": "sms", "address": "13900000042"},
        ]});
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/people/{me}/channels"), Some("demo-group-member"),
            Some(Body::from(chans.to_string())), &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // Sealed at rest: no address in clear in the database.
        let stored: Vec<String> = app.state.store.person_channels(me.parse().unwrap()).await.unwrap()
            .into_iter().map(|(_, a)| a).collect();
        assert_eq!(stored.len(), 3);
        for a in &stored {
            assert!(a.starts_with("sealed1:") && !a.contains("example.org") && !a.contains("13900000042"), "{a}");
        }
        // In full to their owner; masked for an administrator who may read them.
        let (_, own) = app.get(&format!("/api/v1/people/{me}/channels"), "demo-group-member").await;
        assert!(own.to_string().contains("secret-key-7781") && own.to_string().contains("zheng.gp@example.org"), "{own}");
        let (s, other) = app.get(&format!("/api/v1/people/{me}/channels"), "demo-province-admin").await;
        assert_eq!(s, StatusCode::OK);
        let t = other.to_string();
        assert!(!t.contains("secret-key-7781") && !t.contains("zheng.gp@") && !t.contains("13900000042"), "{t}");
        assert!(t.contains("hooks.example.org") && t.contains("@example.org"), "{t}");
        // The record keeps them masked too.
        let (_, payload): (String, String) = sqlx_event(&app, "channels_set").await;
        assert!(!payload.contains("secret-key-7781") && !payload.contains("zheng.gp@"), "{payload}");

        // A call: the deliveries list shows each acknowledgement link only to its recipient.
        let mut body = report_body(&app, 30).await;
        body["title"] = json!("回执链接测试");
        let (_, inc) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        let id = inc["id"].as_str().unwrap();
        for (a, t) in [("verify", "demo-duty-officer"), ("assess", "demo-commander"), ("activate", "demo-commander")] {
            let (s, v) = app.post(&format!("/api/v1/incidents/{id}/{a}"), t, json!({})).await;
            assert_eq!(s, StatusCode::OK, "{a}: {v}");
        }
        app.state.notify.expand().await.unwrap();
        let (s, all) = app.get(&format!("/api/v1/deliveries?incident_id={id}"), "demo-province-admin").await;
        assert_eq!(s, StatusCode::OK, "{all}");
        let items = all["items"].as_array().unwrap();
        assert!(items.iter().any(|d| d["person_id"] == me.as_str()), "郑国平 was called: {all}");
        assert!(items.iter().all(|d| d["ack_url"].is_null()), "an administrator sees no one's link: {all}");
        assert!(!all.to_string().contains("secret-key-7781"), "{all}");
        let (s, auditor) = app.get(&format!("/api/v1/deliveries?incident_id={id}"), "demo-auditor").await;
        if s == StatusCode::OK {
            assert!(auditor["items"].as_array().unwrap().iter().all(|d| d["ack_url"].is_null()), "{auditor}");
        }
        let (s, mine) = app.get(&format!("/api/v1/deliveries?incident_id={id}"), "demo-group-member").await;
        if s == StatusCode::OK {
            for d in mine["items"].as_array().unwrap() {
                if d["person_id"] != me.as_str() {
                    assert!(d["ack_url"].is_null(), "{d}");
                }
            }
        }
    };

    parallel_wrong_passwords_cannot_outrun_the_lockout => |app: TestApp| async move {
        let max = app.state.trust.max_failures as usize;
        let mut tasks = Vec::new();
        for _ in 0..30 {
            let router = app.router.clone();
            tasks.push(tokio::spawn(async move {
                let r = router.oneshot(
                    Request::post("/api/v1/session")
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(json!({"login": "duty-officer", "password": "wrong-password-1"}).to_string()))
                        .unwrap(),
                ).await.unwrap();
                let retry = r.headers().get(header::RETRY_AFTER).is_some();
                let b = r.into_body().collect().await.unwrap().to_bytes();
                let v: Value = serde_json::from_slice(&b).unwrap();
                (v["error"]["code"].as_str().unwrap().to_string(), retry)
            }));
        }
        let mut wrong = 0;
        let mut locked = 0;
        for t in tasks {
            let (code, retry) = t.await.unwrap();
            match code.as_str() {
                "invalid_credentials" => wrong += 1,
                "sign_in_locked" => {
                    locked += 1;
                    assert!(retry, "a lockout says when to retry");
                }
                c => panic!("unexpected {c}"),
            }
        }
        assert_eq!((wrong, locked), (max, 30 - max), "only {max} passwords were checked");
        // Even the right password is refused now.
        let (s, _, _) = app.send(Method::POST, "/api/v1/session", None,
            Some(Body::from(json!({"login": "duty-officer", "password": PW}).to_string())),
            &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    };

    smaller_holes_are_closed => |app: TestApp| async move {
        // A case lead from outside the actor's subtree is "not found", like an unknown one.
        let county = app.jurisdiction("临溪市").await;
        let town = app.jurisdiction("青石镇").await;
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": county, "channel": "letter",
            "petitioners": [{"name": "甲某", "contact": "13900000001"}],
            "title": "道路积水", "grievance": "道路积水影响出行"
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap();
        let city_person = app.person("宋雅琴").await;
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/lead"), "demo-petition-clerk", json!({"person_id": city_person})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_person")), "{v}");
        assert!(!v.to_string().contains("宋雅琴"), "{v}");

        // A new case cannot be linked to an incident outside the actor's subtree.
        let mut body = report_body(&app, 30).await;
        body["jurisdiction_id"] = json!(app.jurisdiction("东湖街道").await);
        let (s, inc) = app.post("/api/v1/incidents", "demo-province-admin", body).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        let (s, v) = app.post("/api/v1/cases", "demo-town-duty", json!({
            "jurisdiction_id": town, "channel": "letter",
            "petitioners": [{"name": "乙某"}], "title": "噪音", "grievance": "夜间施工噪音",
            "incident_id": inc["id"]
        })).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_incident")), "{v}");

        // A NUL in any text is a 400 with its place, not a 500.
        let mut body = report_body(&app, 30).await;
        body["title"] = json!("标题\u{0}后半");
        let (s, v) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_request")), "{v}");
        assert!(v["error"]["details"]["line"].is_number(), "{v}");

        // An unknown plan and another subtree's plan answer alike.
        let (s1, v1) = app.get("/api/v1/plans/no-such-plan", "demo-street-duty").await;
        let (s2, v2) = app.get("/api/v1/plans/linxiang-city-mass-petition", "demo-street-duty").await;
        if s2 != StatusCode::OK {
            assert_eq!((s1, v1["error"]["code"].clone()), (s2, v2["error"]["code"].clone()));
        }

        // The reveal log is readable by an auditor, in their subtree.
        let pid = app.person("王晓明").await;
        let (s, v) = app.post(&format!("/api/v1/people/{pid}/reveal"), "demo-commander", json!({"field": "phone", "reason": "通知其到场协助"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, log) = app.get("/api/v1/audit/disclosures", "demo-auditor").await;
        assert_eq!(s, StatusCode::OK, "{log}");
        let first = &log["items"][0];
        assert_eq!((first["field"].clone(), first["reason"].clone(), first["subject_id"].clone()),
            (json!("phone"), json!("通知其到场协助"), json!(pid)), "{log}");
        let (s, _) = app.get("/api/v1/audit/disclosures", "demo-group-member").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    };
}

/// The kind and payload of 郑国平's newest event of a kind.
async fn sqlx_event(app: &TestApp, kind: &str) -> (String, String) {
    let id: uuid::Uuid = app.person("郑国平").await.parse().unwrap();
    let e = app
        .state
        .store
        .stream_events(id)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.envelope.kind == kind)
        .expect("the event");
    (kind.to_string(), e.envelope.payload)
}
