//! Trust: sign-in, sessions and CSRF, lockout, API tokens, disabling, roles per jurisdiction
//! subtree, approvals by the plan's post, sealed personal data with logged reveals, security
//! headers, and online backup/restore under write load.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::{TestApp, report_body};
use crate::on_both;

const PW: &str = yingji_app::accounts::DEMO_PASSWORD;

async fn sign_in(app: &TestApp, login: &str, password: &str) -> (StatusCode, Value, HeaderMap) {
    app.send(
        Method::POST,
        "/api/v1/session",
        None,
        Some(Body::from(
            json!({"login": login, "password": password}).to_string(),
        )),
        &[("content-type", "application/json")],
    )
    .await
}

/// `yingji_session=…` from a sign-in response.
fn session_cookie(h: &HeaderMap) -> String {
    let c = h.get("set-cookie").unwrap().to_str().unwrap();
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    c.split(';').next().unwrap().to_string()
}

/// An incident reported, verified, assessed and activated by the demo's people.
pub(crate) async fn active_incident(app: &TestApp, headcount: u32) -> String {
    let (s, inc) = app
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            report_body(app, headcount).await,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{inc}");
    let id = inc["id"].as_str().unwrap().to_string();
    for (a, who) in [
        ("verify", "demo-duty-officer"),
        ("assess", "demo-commander"),
        ("activate", "demo-commander"),
    ] {
        let (s, v) = app
            .post(&format!("/api/v1/incidents/{id}/{a}"), who, json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{a}: {v}");
    }
    id
}

on_both! {
    sibling_township_sees_nothing => |app: TestApp| async move {
        // A report in 青石镇 (by the province administrator), under the county's plan.
        let mut body = report_body(&app, 30).await;
        body["jurisdiction_id"] = json!(app.jurisdiction("青石镇").await);
        let (s, inc) = app.post("/api/v1/incidents", "demo-province-admin", body).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        let id = inc["id"].as_str().unwrap();
        let (s, _) = app.get(&format!("/api/v1/incidents/{id}"), "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK, "the township sees its own incident");
        // 东湖街道 is 青石镇's sibling: 404 for reads and commands alike, never 403.
        let (s, v) = app.get(&format!("/api/v1/incidents/{id}"), "demo-street-duty").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
        let (s, _) = app.get(&format!("/api/v1/incidents/{id}/timeline"), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.post(&format!("/api/v1/incidents/{id}/verify"), "demo-street-duty", json!({})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, list) = app.get("/api/v1/incidents", "demo-street-duty").await;
        assert!(list["items"].as_array().unwrap().iter().all(|i| i["id"] != id));
        let town = app.jurisdiction("青石镇").await;
        let (s, _) = app.get(&format!("/api/v1/jurisdictions/{town}"), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    };

    petition_and_notification_routes_check_roles => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let case = |j: &str| json!({"jurisdiction_id": j, "channel": "letter", "petitioners": [{"name": "测试来信人"}],
            "title": "测试：反映路灯不亮", "grievance": "要求修复路灯"});
        // A group member cannot register a case, and nothing is written.
        let before = app.event_count().await;
        let (s, v) = app.post("/api/v1/cases", "demo-group-member", case(&county)).await;
        assert_eq!((s, v["error"]["code"].clone(), v["error"]["details"]["permission"].clone()),
            (StatusCode::FORBIDDEN, json!("forbidden"), json!("register_case")), "{v}");
        assert!(v["error"]["message"].as_str().unwrap().is_ascii(), "API messages are English: {v}");
        assert_eq!(app.event_count().await, before);
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", case(&county)).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        // An auditor reads cases, disputes, the report board, calls and rosters…
        for path in [
            format!("/api/v1/cases/{cid}"), format!("/api/v1/cases/{cid}/timeline"),
            "/api/v1/cases".into(), "/api/v1/cases/stats?year=2026".into(), "/api/v1/disputes".into(),
            "/api/v1/deliveries".into(), format!("/api/v1/jurisdictions/{county}/rosters"),
        ] {
            let (s, v) = app.get(&path, "demo-auditor").await;
            assert_eq!(s, StatusCode::OK, "{path}: {v}");
        }
        // …but does not act on them.
        let before = app.event_count().await;
        for (path, body, permission) in [
            ("/api/v1/cases".to_string(), case(&county), "register_case"),
            (format!("/api/v1/cases/{cid}/classify"), json!({"category": "administrative", "topic": "城乡建设"}), "handle_case"),
            (format!("/api/v1/cases/{cid}/propose"), json!({"text": "拟办"}), "handle_case"),
            (format!("/api/v1/cases/{cid}/approve"), json!({}), "approve_case"),
            (format!("/api/v1/cases/{cid}/reveal"), json!({"petitioner": 0, "field": "contact", "reason": "核对"}), "reveal_personal_data"),
            ("/api/v1/disputes/rounds".to_string(), json!({"jurisdiction_id": county}), "screen_disputes"),
            ("/api/v1/disputes".to_string(), json!({"jurisdiction_id": county, "title": "测试纠纷", "parties": [], "nature": "邻里", "area": "某村", "risk": "low"}), "screen_disputes"),
        ] {
            let (s, v) = app.post(&path, "demo-auditor", body).await;
            assert_eq!((s, v["error"]["details"]["permission"].clone()), (StatusCode::FORBIDDEN, json!(permission)), "{path}: {v}");
        }
        let roster = json!({"time_zone": "Asia/Shanghai", "start_date": "2026-03-02",
            "shifts": [{"id": "day", "name": "白班", "start": "08:30", "end": "17:30"}],
            "rotation": [{"person_id": app.person("王晓明").await, "name": "王晓明"}]});
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/jurisdictions/{county}/rosters/duty-officer"), Some("demo-auditor"),
            Some(Body::from(roster.to_string())), &[("content-type", "application/json")]).await;
        assert_eq!((s, v["error"]["details"]["permission"].clone()), (StatusCode::FORBIDDEN, json!("manage_notifications")), "{v}");
        assert_eq!(app.event_count().await, before, "nothing refused was written");
        // A person's own channels need no role; someone else's do.
        let me = app.person("郑国平").await;
        let chans = json!({"channels": [{"channel": "sms", "address": "13900000042"}]}).to_string();
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/people/{me}/channels"), Some("demo-group-member"),
            Some(Body::from(chans.clone())), &[("content-type", "application/json")]).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let other = app.person("王晓明").await;
        let (s, v, _) = app.send(Method::PUT, &format!("/api/v1/people/{other}/channels"), Some("demo-group-member"),
            Some(Body::from(chans)), &[("content-type", "application/json")]).await;
        assert_eq!((s, v["error"]["details"]["permission"].clone()), (StatusCode::FORBIDDEN, json!("manage_notifications")), "{v}");
        // The clerk works the case the auditor could not.
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/propose"), "demo-petition-clerk", json!({"text": "拟交市住建局办理"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    };

    sibling_township_gets_404_for_a_case => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let (s, c) = app.post("/api/v1/cases", "demo-town-duty", json!({"jurisdiction_id": town, "channel": "visit",
            "petitioners": [{"name": "测试来访人", "contact": "13800001111"}], "title": "测试：反映村道损毁", "grievance": "要求修复村道"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap();
        let (s, _) = app.get(&format!("/api/v1/cases/{cid}"), "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK);
        // 东湖街道's duty officer holds the same role, next door: 404 for everything, never 403.
        let (s, v) = app.get(&format!("/api/v1/cases/{cid}"), "demo-street-duty").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
        let (s, _) = app.get(&format!("/api/v1/cases/{cid}/timeline"), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.post(&format!("/api/v1/cases/{cid}/propose"), "demo-street-duty", json!({"text": "x"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.post(&format!("/api/v1/cases/{cid}/reveal"), "demo-street-duty", json!({"petitioner": 0, "field": "contact", "reason": "核对"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = app.post("/api/v1/cases", "demo-street-duty", json!({"jurisdiction_id": town, "channel": "visit",
            "petitioners": [], "title": "x", "grievance": "y"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (_, list) = app.get("/api/v1/cases", "demo-street-duty").await;
        assert!(list["items"].as_array().unwrap().iter().all(|i| i["id"] != cid));
        let (s, _) = app.get(&format!("/api/v1/cases/stats?year=2026&jurisdiction_id={town}"), "demo-street-duty").await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    };

    petitioners_personal_data_is_masked_and_revealed_with_a_reason => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let (phone, id_number, address) = ("13812345678", "330100199001011234", "临溪市青石镇枫林村三组12号");
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({"jurisdiction_id": county, "channel": "letter",
            "petitioners": [{"name": "测试来信人", "contact": phone, "id_number": id_number, "address": address}],
            "title": "测试：反映路灯不亮", "grievance": "要求修复路灯"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap().to_string();
        let expect = json!({"name": "测试来信人", "contact": "138****5678", "address": "临溪市青石镇****", "id_number": "3301**********1234"});
        assert_eq!(c["petitioners"][0], expect, "masked in the registration response");
        let (_, v) = app.get(&format!("/api/v1/cases/{cid}"), "demo-petition-clerk").await;
        assert_eq!(v["petitioners"][0], expect, "masked when read");
        // The registration event holds the masks only.
        let (_, tl) = app.get(&format!("/api/v1/cases/{cid}/timeline"), "demo-auditor").await;
        let log = tl.to_string();
        assert!(log.contains("138****5678"), "{log}");
        for secret in [phone, id_number, address] {
            assert!(!log.contains(secret), "{secret} in the event log: {log}");
        }
        // A malformed ID number is refused.
        let (s, v) = app.post("/api/v1/cases", "demo-petition-clerk", json!({"jurisdiction_id": county, "channel": "letter",
            "petitioners": [{"name": "某人", "id_number": "12345"}], "title": "t", "grievance": "g"})).await;
        assert_eq!((s, v["error"]["details"]["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("petitioners.id_number")));
        // Revealing needs the role and a reason, and is logged before the value is returned.
        let path = format!("/api/v1/cases/{cid}/reveal");
        let (s, v) = app.post(&path, "demo-group-member", json!({"petitioner": 0, "field": "id_number", "reason": "核对身份"})).await;
        assert_eq!((s, v["error"]["details"]["permission"].clone()), (StatusCode::FORBIDDEN, json!("reveal_personal_data")));
        let before = app.event_count().await;
        let (s, v) = app.post(&path, "demo-petition-clerk", json!({"petitioner": 0, "field": "id_number", "reason": ""})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason_required")));
        let (s, v) = app.post(&path, "demo-petition-clerk", json!({"petitioner": 3, "field": "id_number", "reason": "核对身份"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_petitioner")));
        assert_eq!(app.event_count().await, before);
        for (field, value) in [("contact", phone), ("id_number", id_number), ("address", address)] {
            let (s, v) = app.post(&path, "demo-petition-clerk", json!({"petitioner": 0, "field": field, "reason": "书面答复需邮寄"})).await;
            assert_eq!((s, v["value"].clone()), (StatusCode::OK, json!(value)), "{v}");
        }
        assert_eq!(app.event_count().await, before + 3, "each reveal is an event");
        let (s, v) = app.post(&path, "demo-petition-clerk", json!({"petitioner": 0, "field": "name", "reason": "x y"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_field")));
        // A referral carries the data, sealed again for the new case.
        let town = app.jurisdiction("青石镇").await;
        for (who, action, body) in [
            ("demo-petition-clerk", "propose", json!({"text": "拟转交青石镇"})),
            ("demo-commander", "approve", json!({})),
            ("demo-secretary-general", "approve", json!({})),
            ("demo-petition-clerk", "route", json!({"kind": "refer", "target": "青石镇人民政府", "target_jurisdiction_id": town})),
        ] {
            let (s, v) = app.post(&format!("/api/v1/cases/{cid}/{action}"), who, body).await;
            assert_eq!(s, StatusCode::OK, "{action}: {v}");
            if action == "route" {
                let child = v["routing"]["child_case"].as_str().unwrap();
                let (_, ch) = app.get(&format!("/api/v1/cases/{child}"), "demo-town-duty").await;
                assert_eq!(ch["petitioners"][0], expect);
                let (s, r) = app.post(&format!("/api/v1/cases/{child}/reveal"), "demo-petition-clerk", json!({"petitioner": 0, "field": "contact", "reason": "电话回访"})).await;
                assert_eq!((s, r["value"].clone()), (StatusCode::OK, json!(phone)), "{r}");
            }
        }
        // Every petitioner value in the database is sealed, with its case's subject key.
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM case_petitioners WHERE (petitioner_contact IS NOT NULL AND petitioner_contact NOT LIKE 'subject1:%') OR (petitioner_id_number IS NOT NULL AND petitioner_id_number NOT LIKE 'subject1:%') OR (petitioner_address IS NOT NULL AND petitioner_address NOT LIKE 'subject1:%')")
            .fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(n, 0);
        // `rekey` leaves values sealed with their case's key alone, and seals a value stored in
        // clear before sealing existed, or with the data key before subject keys existed, with
        // the case's key; it still reveals the same.
        assert_eq!(yingji_app::cases::rekey_petitioners(&app.state).await.unwrap(), 0);
        sqlx::query("UPDATE case_petitioners SET petitioner_contact = '13812345678' WHERE CAST(case_id AS TEXT) = $1")
            .bind(&cid).execute(app.state.store.pool()).await.unwrap();
        assert_eq!(yingji_app::cases::rekey_petitioners(&app.state).await.unwrap(), 1);
        let (stored,): (String,) = sqlx::query_as("SELECT petitioner_contact FROM case_petitioners WHERE CAST(case_id AS TEXT) = $1")
            .bind(&cid).fetch_one(app.state.store.pool()).await.unwrap();
        assert!(stored.starts_with("subject1:"), "{stored}");
        let (_, v) = app.post(&path, "demo-petition-clerk", json!({"petitioner": 0, "field": "contact", "reason": "电话回访"})).await;
        assert_eq!(v["value"], phone);
        let legacy = app.state.sealer.seal(address, &yingji_app::cases::petitioner_aad(cid.parse().unwrap(), 0, "address"));
        sqlx::query("UPDATE case_petitioners SET petitioner_address = $1 WHERE CAST(case_id AS TEXT) = $2")
            .bind(&legacy).bind(&cid).execute(app.state.store.pool()).await.unwrap();
        let (_, v) = app.post(&path, "demo-petition-clerk", json!({"petitioner": 0, "field": "address", "reason": "邮寄答复"})).await;
        assert_eq!(v["value"], address, "a value sealed with the data key still opens");
        assert_eq!(yingji_app::cases::rekey_petitioners(&app.state).await.unwrap(), 1);
        let (stored,): (String,) = sqlx::query_as("SELECT petitioner_address FROM case_petitioners WHERE CAST(case_id AS TEXT) = $1")
            .bind(&cid).fetch_one(app.state.store.pool()).await.unwrap();
        assert!(stored.starts_with("subject1:"), "{stored}");
        let (_, v) = app.post(&path, "demo-petition-clerk", json!({"petitioner": 0, "field": "address", "reason": "邮寄答复"})).await;
        assert_eq!(v["value"], address);
    };

    roles_decide_what_may_be_done => |app: TestApp| async move {
        let id = active_incident(&app, 60).await;
        let before = app.event_count().await;
        // A group member works tasks and reports updates but cannot end a response.
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/end"), "demo-group-member", json!({"reason": "已散去"})).await;
        assert_eq!((s, v["error"]["code"].clone(), v["error"]["details"]["permission"].clone()), (StatusCode::FORBIDDEN, json!("forbidden"), json!("end_response")));
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/updates"), "demo-group-member", json!({"care": ["已送饮用水"]})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // Nor create people, upload plans, or record coercive steps.
        let county = app.jurisdiction("临溪市").await;
        let (s, _) = app.post("/api/v1/people", "demo-group-member", json!({"jurisdiction_id": county, "name": "某人"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _) = app.post("/api/v1/plans", "demo-group-member", json!({"jurisdiction_id": county, "source": "x"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // An auditor reads but does not act.
        let (s, _) = app.get(&format!("/api/v1/incidents/{id}"), "demo-auditor").await;
        assert_eq!(s, StatusCode::OK);
        let (s, _) = app.post(&format!("/api/v1/incidents/{id}/updates"), "demo-auditor", json!({"note": "x"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, v) = app.get("/api/v1/audit/verify", "demo-auditor").await;
        assert_eq!((s, v["broken"].clone()), (StatusCode::OK, json!([])));
        let (s, _) = app.get("/api/v1/audit/verify", "demo-group-member").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(app.event_count().await, before + 1, "only the permitted update was written");
        let (_, me) = app.get("/api/v1/me", "demo-group-member").await;
        assert_eq!(me["roles"][0]["role"], "group_member");
        assert!(!me["permissions"].as_array().unwrap().contains(&json!("end_response")));
    };

    ending_is_approved_only_by_the_post_the_plan_names => |app: TestApp| async move {
        // Level Ⅲ (60 people): the plan names 政法委书记 / 副市长 as commander.
        let id = active_incident(&app, 60).await;
        // 林建国 holds the commander role but not those posts.
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/end"), "demo-commander", json!({"reason": "已散去"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("wrong_approver")), "{v}");
        assert!(v["error"]["details"]["posts"].as_array().unwrap().contains(&json!("plac-secretary")));
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/end"), "demo-plac-secretary", json!({"reason": "已散去"})).await;
        assert_eq!((s, v["status"].clone()), (StatusCode::OK, json!("ended")), "{v}");
    };

    sign_in_sessions_and_csrf => |app: TestApp| async move {
        let (s, v, h) = sign_in(&app, "duty-officer", PW).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["actor"]["name"], "王晓明");
        let cookie = session_cookie(&h);
        let csrf = v["csrf_token"].as_str().unwrap().to_string();
        let (s, _, _) = app.send(Method::GET, "/api/v1/me", None, None, &[("cookie", &cookie)]).await;
        assert_eq!(s, StatusCode::OK);
        let body = report_body(&app, 30).await.to_string();
        let before = app.event_count().await;
        // A form post from elsewhere carries the cookie but not the token: refused.
        let (s, v, _) = app.send(Method::POST, "/api/v1/incidents", None, Some(Body::from(body.clone())), &[("cookie", &cookie), ("content-type", "application/json")]).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("csrf_failed")));
        let (s, _, _) = app.send(Method::POST, "/api/v1/incidents", None, Some(Body::from(body.clone())), &[("cookie", &cookie), ("content-type", "application/json"), ("x-csrf-token", "forged")]).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert_eq!(app.event_count().await, before);
        let (s, _, _) = app.send(Method::POST, "/api/v1/incidents", None, Some(Body::from(body)), &[("cookie", &cookie), ("content-type", "application/json"), ("x-csrf-token", &csrf)]).await;
        assert_eq!(s, StatusCode::CREATED);
        // Sessions are stored hashed: the cookie's token is not in the database.
        let token = cookie.split_once('=').unwrap().1;
        assert!(app.state.store.session(token).await.unwrap().is_none());
        // Sign out ends the session.
        let (s, _, _) = app.send(Method::DELETE, "/api/v1/session", None, None, &[("cookie", &cookie), ("x-csrf-token", &csrf)]).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _, _) = app.send(Method::GET, "/api/v1/me", None, None, &[("cookie", &cookie)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        // Sessions expire.
        let (_, _, h) = sign_in(&app, "duty-officer", PW).await;
        let cookie = session_cookie(&h);
        app.advance_mins(13 * 60);
        let (s, _, _) = app.send(Method::GET, "/api/v1/me", None, None, &[("cookie", &cookie)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    };

    sixth_wrong_password_locks_even_the_right_one => |app: TestApp| async move {
        for i in 0..5 {
            let (s, v, _) = sign_in(&app, "commander", "wrong-password").await;
            assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_credentials")), "attempt {i}");
        }
        let (s, v, _) = sign_in(&app, "commander", "wrong-password").await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!("sign_in_locked")));
        let (s, v, _) = sign_in(&app, "commander", PW).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::TOO_MANY_REQUESTS, json!("sign_in_locked")), "locked even with the right password");
        // Other logins are not affected.
        let (s, _, _) = sign_in(&app, "duty-officer", PW).await;
        assert_eq!(s, StatusCode::OK);
        // After the lockout the right password works again.
        app.advance_mins(16);
        let (s, v, _) = sign_in(&app, "commander", PW).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        // Unknown logins look the same as wrong passwords.
        let (s, v, _) = sign_in(&app, "nobody", PW).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_credentials")));
    };

    api_tokens_password_change_and_disabling => |app: TestApp| async move {
        let (s, t) = app.post("/api/v1/me/tokens", "demo-group-member", json!({"name": "现场终端"})).await;
        assert_eq!(s, StatusCode::CREATED, "{t}");
        let token = t["token"].as_str().unwrap().to_string();
        let (s, me) = app.get("/api/v1/me", &token).await;
        assert_eq!((s, me["name"].clone()), (StatusCode::OK, json!("郑国平")));
        let (_, list) = app.get("/api/v1/me/tokens", "demo-group-member").await;
        assert!(list["items"][0].get("token").is_none(), "the secret is shown once only");
        // Password change: the old password stops working.
        let (_, v, h) = sign_in(&app, "group-member", PW).await;
        let cookie = session_cookie(&h);
        let csrf = v["csrf_token"].as_str().unwrap().to_string();
        let (s, v) = app.post("/api/v1/me/password", "demo-group-member", json!({"current_password": "not-it-at-all", "new_password": "another-long-one"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("wrong_password")));
        let (s, v) = app.post("/api/v1/me/password", "demo-group-member", json!({"current_password": PW, "new_password": "short"})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("weak_password")));
        let (s, _) = app.post("/api/v1/me/password", "demo-group-member", json!({"current_password": PW, "new_password": "a-new-long-password"})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _, _) = sign_in(&app, "group-member", PW).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _, _) = sign_in(&app, "group-member", "a-new-long-password").await;
        assert_eq!(s, StatusCode::OK);
        // The earlier session was signed out by the change.
        let (s, _, _) = app.send(Method::GET, "/api/v1/me", None, None, &[("cookie", &cookie)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let _ = csrf;
        // An administrator disables him: token, demo token and sessions stop at once.
        let (_, _, h) = sign_in(&app, "group-member", "a-new-long-password").await;
        let cookie = session_cookie(&h);
        let member = app.person("郑国平").await;
        let (s, v) = app.post(&format!("/api/v1/people/{member}/disable"), "demo-group-member", json!({"reason": "x"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        let (s, v) = app.post(&format!("/api/v1/people/{member}/disable"), "demo-province-admin", json!({"reason": "调离岗位"})).await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        for t in [token.as_str(), "demo-group-member"] {
            let (s, v) = app.get("/api/v1/me", t).await;
            assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNAUTHORIZED, json!("account_disabled")));
        }
        let (s, _, _) = app.send(Method::GET, "/api/v1/me", None, None, &[("cookie", &cookie)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (s, _, _) = sign_in(&app, "group-member", "a-new-long-password").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        let (_, tl) = app.get(&format!("/api/v1/people/{member}/grants"), "demo-province-admin").await;
        assert_eq!(tl["items"][0]["role"], "group_member");
        // Revoked tokens stop too (after re-enabling).
        let (s, _) = app.post(&format!("/api/v1/people/{member}/enable"), "demo-province-admin", json!({"reason": "复岗"})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let tid = t["id"].as_str().unwrap();
        let (s, _) = app.post(&format!("/api/v1/me/tokens/{tid}/revoke"), "demo-group-member", json!({})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _) = app.get("/api/v1/me", &token).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(app.state.store.verify(None).await.unwrap().broken.is_empty());
    };

    grants_are_bounded_by_the_granting_subtree => |app: TestApp| async move {
        let member = app.person("郑国平").await;
        let city = app.jurisdiction("云岭市").await;
        let county = app.jurisdiction("临溪市").await;
        // The county's people cannot grant at the city.
        let (s, _) = app.post(&format!("/api/v1/people/{member}/grants/add"), "demo-commander", json!({"role": "commander", "jurisdiction_id": county})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "a commander does not manage users");
        let (s, v) = app.post(&format!("/api/v1/people/{member}/grants/add"), "demo-province-admin", json!({"role": "emperor", "jurisdiction_id": county})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("unknown_role")));
        let (s, _) = app.post(&format!("/api/v1/people/{member}/grants/add"), "demo-province-admin", json!({"role": "commander", "jurisdiction_id": city})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, me) = app.get("/api/v1/me", "demo-group-member").await;
        assert!(me["permissions"].as_array().unwrap().contains(&json!("end_response")));
        let (s, _) = app.post(&format!("/api/v1/people/{member}/grants/remove"), "demo-province-admin", json!({"role": "commander", "jurisdiction_id": city})).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (_, me) = app.get("/api/v1/me", "demo-group-member").await;
        assert!(!me["permissions"].as_array().unwrap().contains(&json!("end_response")));
    };

    phones_are_masked_and_reveals_are_logged => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let (s, p) = app.post("/api/v1/people", "demo-province-admin", json!({"jurisdiction_id": county, "name": "测试联系人", "phone": "13987654321"})).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        assert_eq!(p["phone"], "139****4321");
        let pid = p["id"].as_str().unwrap();
        let (_, list) = app.get("/api/v1/people", "demo-commander").await;
        let row = list["items"].as_array().unwrap().iter().find(|x| x["id"] == pid).unwrap().clone();
        assert_eq!(row["phone"], "139****4321");
        let (s, v) = app.post(&format!("/api/v1/people/{pid}/reveal"), "demo-group-member", json!({"field": "phone", "reason": "联系"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        let (s, v) = app.post(&format!("/api/v1/people/{pid}/reveal"), "demo-commander", json!({"field": "phone", "reason": " "})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason_required")));
        let before = app.event_count().await;
        let (s, v) = app.post(&format!("/api/v1/people/{pid}/reveal"), "demo-commander", json!({"field": "phone", "reason": "通知其到场协助"})).await;
        assert_eq!((s, v["value"].clone()), (StatusCode::OK, json!("13987654321")));
        assert_eq!(app.event_count().await, before + 1, "the reveal is an event");
        let row: (String, String, Option<String>, String) = sqlx::query_as("SELECT actor_name, kind, reason, payload FROM events WHERE kind = 'personal_data_revealed'")
            .fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!((row.0.as_str(), row.2.as_deref()), ("林建国", Some("通知其到场协助")));
        assert!(row.3.contains(pid) && row.3.contains("phone") && !row.3.contains("13987654321"));
        // Nowhere in the database in clear: not the row, not the event, not the stored response.
        let hits: (i64,) = sqlx::query_as("SELECT (SELECT COUNT(*) FROM people WHERE phone LIKE '%13987654321%') + (SELECT COUNT(*) FROM events WHERE payload LIKE '%13987654321%') + (SELECT COUNT(*) FROM idempotency WHERE response LIKE '%13987654321%')")
            .fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(hits.0, 0);
    };

    account_writes_reach_live_pages_in_scope => |app: TestApp| async move {
        // A person in 青石镇 signs in and out; 临溪市 (above it) sees both on the live bus,
        // 东湖街道 (its sibling) sees neither.
        let county_viewer = yingji_app::Actor::from_token(&app.state, "demo-duty-officer").await.unwrap().unwrap();
        let street_viewer = yingji_app::Actor::from_token(&app.state, "demo-street-duty").await.unwrap().unwrap();
        let town_duty = app.person("刘洋").await;
        let mut rx = app.state.subscribe();
        let next = |rx: &mut tokio::sync::broadcast::Receiver<yingji_app::Change>| {
            let c = rx.try_recv().expect("a change was published");
            assert!(county_viewer.sees(&c.jurisdiction_path) && !street_viewer.sees(&c.jurisdiction_path), "{c:?}");
            (c.stream_kind, c.stream_id.to_string())
        };
        // A wrong password is recorded (it counts for the lockout) but changes no stream.
        let (s, _, _) = sign_in(&app, "town-duty", "wrong-password").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(rx.try_recv().is_err(), "a refused sign-in publishes nothing");
        let (s, v, h) = sign_in(&app, "town-duty", PW).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(next(&mut rx), ("person".to_string(), town_duty.clone()));
        let cookie = session_cookie(&h);
        let csrf = v["csrf_token"].as_str().unwrap().to_string();
        let (s, _, _) = app.send(Method::DELETE, "/api/v1/session", None, None, &[("cookie", &cookie), ("x-csrf-token", &csrf)]).await;
        assert_eq!(s, StatusCode::NO_CONTENT);
        assert_eq!(next(&mut rx), ("person".to_string(), town_duty.clone()));
        // An administrator's changes to the account too.
        let town = app.jurisdiction("青石镇").await;
        for (path, body) in [
            (format!("/api/v1/people/{town_duty}/grants/add"), json!({"role": "auditor", "jurisdiction_id": town})),
            (format!("/api/v1/people/{town_duty}/account"), json!({"login": "liu-yang", "password": "a-long-enough-one"})),
            (format!("/api/v1/people/{town_duty}/disable"), json!({"reason": "调离"})),
        ] {
            let (s, v) = app.post(&path, "demo-province-admin", body).await;
            assert_eq!(s, StatusCode::NO_CONTENT, "{path}: {v}");
            assert_eq!(next(&mut rx), ("person".to_string(), town_duty.clone()), "{path}");
        }
        // Each is an event in the person's stream, by whom it was done.
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE kind IN ('signed_in', 'signed_out') AND actor_name = '刘洋'")
            .fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(n, 2);
        assert!(app.state.store.verify(None).await.unwrap().broken.is_empty());
    };

    the_demo_directory_is_in_the_event_log => |app: TestApp| async move {
        // Every jurisdiction, person, post, account and grant of the demo was made by a
        // command, each with its event: the root and its administrator by yingji itself, the
        // rest by that administrator.
        let count = |sql: String| {
            let pool = app.state.store.pool().clone();
            async move { sqlx::query_as::<_, (i64,)>(&sql).fetch_one(&pool).await.unwrap().0 }
        };
        for (kind, table) in [
            ("jurisdiction_created", "jurisdictions"),
            ("person_created", "people"),
            ("post_assigned", "post_holders"),
            ("account_set", "accounts"),
            ("role_granted", "role_grants"),
        ] {
            let events = count(format!("SELECT COUNT(*) FROM events WHERE kind = '{kind}'")).await;
            let rows = count(format!("SELECT COUNT(*) FROM {table}")).await;
            assert!(rows > 0, "{table}");
            assert_eq!(events, rows, "one {kind} event per row of {table}");
        }
        let by_yingji = count(String::from("SELECT COUNT(*) FROM events WHERE actor_name = 'yingji' AND kind IN ('jurisdiction_created', 'person_created', 'role_granted', 'account_set')")).await;
        assert_eq!(by_yingji, 4, "the root, its administrator, the grant and the sign-in");
        let by_admin = count(String::from("SELECT COUNT(*) FROM events WHERE actor_name = '陈思远' AND kind IN ('jurisdiction_created', 'person_created', 'post_assigned', 'role_granted', 'account_set')")).await;
        let all = count(String::from("SELECT COUNT(*) FROM events WHERE kind IN ('jurisdiction_created', 'person_created', 'post_assigned', 'role_granted', 'account_set')")).await;
        assert_eq!(by_admin + by_yingji, all);
        assert!(app.state.store.verify(None).await.unwrap().broken.is_empty());
    };

    a_post_is_given_and_taken_back => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let person = app.person("卫东升").await;
        let body = json!({"post_id": "deputy-director", "person_id": person});
        let path = format!("/api/v1/jurisdictions/{town}/holders");
        let (s, v) = app.post(&path, "demo-town-duty", body.clone()).await;
        assert_eq!((s, v["error"]["details"]["permission"].clone()), (StatusCode::FORBIDDEN, json!("manage_directory")), "{v}");
        let (s, v) = app.post(&path, "demo-province-admin", body.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert_eq!(v, json!({"jurisdiction_id": town, "post_id": "deputy-director", "person_id": person, "name": "卫东升", "deputy": false}));
        let held = |v: &Value| v["items"].as_array().unwrap().iter().any(|h| h["post_id"] == "deputy-director");
        let (_, list) = app.get(&path, "demo-town-duty").await;
        assert!(held(&list));
        let (s, v) = app.post(&format!("{path}/remove"), "demo-province-admin", body.clone()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["post_id"], "deputy-director");
        let (_, list) = app.get(&path, "demo-town-duty").await;
        assert!(!held(&list));
        let (s, v) = app.post(&format!("{path}/remove"), "demo-province-admin", body).await;
        assert_eq!((s, v["error"]["message"].clone()), (StatusCode::NOT_FOUND, json!("post holder not found")));
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE kind = 'post_removed'")
            .fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(n, 1);
    };

    openapi_names_the_account_and_directory_schemas => |app: TestApp| async move {
        let (s, doc, _) = app.send(Method::GET, "/api/v1/openapi.json", None, None, &[]).await;
        assert_eq!(s, StatusCode::OK);
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (path, method, status, schema) in [
            ("/api/v1/session", "post", "200", "SignInResponse"),
            ("/api/v1/me/tokens", "post", "201", "NewTokenResponse"),
            ("/api/v1/me/tokens", "get", "200", "TokenList"),
            ("/api/v1/people/{id}/grants", "get", "200", "GrantList"),
            ("/api/v1/people/{id}/reveal", "post", "200", "RevealResponse"),
            ("/api/v1/audit/verify", "get", "200", "AuditReport"),
            ("/api/v1/me", "get", "200", "Me"),
            ("/api/v1/jurisdictions", "get", "200", "JurisdictionList"),
            ("/api/v1/jurisdictions", "post", "201", "Jurisdiction"),
            ("/api/v1/jurisdictions/{id}", "get", "200", "Jurisdiction"),
            ("/api/v1/people", "get", "200", "PersonList"),
            ("/api/v1/people", "post", "201", "Person"),
            ("/api/v1/jurisdictions/{id}/holders", "get", "200", "HolderList"),
            ("/api/v1/jurisdictions/{id}/holders", "post", "201", "HolderChange"),
            ("/api/v1/jurisdictions/{id}/holders/remove", "post", "200", "HolderChange"),
        ] {
            let op = &doc["paths"][path][method];
            let r = &op["responses"][status]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(r, &json!(format!("#/components/schemas/{schema}")), "{method} {path}");
            assert!(schemas.contains_key(schema), "{schema}");
        }
        for (path, method, schema) in [
            ("/api/v1/session", "post", "SignInRequest"),
            ("/api/v1/people/{id}/account", "post", "SetAccountRequest"),
            ("/api/v1/people/{id}/grants/{op}", "post", "GrantRequest"),
            ("/api/v1/jurisdictions/{id}/holders/remove", "post", "AssignHolderRequest"),
        ] {
            let r = &doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"];
            assert_eq!(r, &json!(format!("#/components/schemas/{schema}")), "{method} {path}");
        }
        // The answer has the shape its schema names.
        let (_, me) = app.get("/api/v1/me", "demo-duty-officer").await;
        let props = schemas["Me"]["properties"].as_object().unwrap();
        let keys: std::collections::BTreeSet<_> = me.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, props.keys().cloned().collect());
    };

    security_headers_on_every_response => |app: TestApp| async move {
        for (path, token) in [("/healthz", None), ("/api/v1/me", Some("demo-duty-officer")), ("/api/v1/nowhere", None)] {
            let (_, _, h) = app.send(Method::GET, path, token, None, &[]).await;
            assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff", "{path}");
            assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
            assert_eq!(h.get("referrer-policy").unwrap(), "no-referrer");
            assert!(h.get("content-security-policy").unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
        }
    };

    backup_under_write_load_restores_every_acknowledged_write => |app: TestApp| async move {
        let acked: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let body = report_body(&app, 30).await.to_string();
        let mut writers = vec![];
        for _ in 0..3 {
            let (router, acked, stop, body) = (app.router.clone(), acked.clone(), stop.clone(), body.clone());
            writers.push(tokio::spawn(async move {
                use tower::ServiceExt;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let req = axum::http::Request::post("/api/v1/incidents").header("authorization", "Bearer demo-duty-officer").header("content-type", "application/json").body(Body::from(body.clone())).unwrap();
                    let resp = router.clone().oneshot(req).await.unwrap();
                    assert_eq!(resp.status(), StatusCode::CREATED);
                    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
                    let v: Value = serde_json::from_slice(&bytes).unwrap();
                    acked.lock().unwrap().push(v["id"].as_str().unwrap().to_string());
                }
            }));
        }
        while acked.lock().unwrap().len() < 20 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let before_backup: Vec<String> = acked.lock().unwrap().clone();
        let file = std::env::temp_dir().join(format!("yingji-backup-{}.jsonl", uuid::Uuid::now_v7().simple()));
        let summary = app.state.store.backup(&file).await.expect("backup");
        let during = acked.lock().unwrap().len();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        assert!(acked.lock().unwrap().len() > before_backup.len(), "writes went on around the backup");
        assert!(summary.tables["events"] > 0);

        let (target, _guard) = crate::harness::empty_store_like(&app).await;
        let restored = target.restore(&file).await.expect("restore");
        assert_eq!(restored.tables, summary.tables);
        let report = target.verify(None).await.unwrap();
        assert!(report.broken.is_empty(), "{:?}", report.broken);
        for id in &before_backup {
            let id = uuid::Uuid::parse_str(id).unwrap();
            assert!(target.get_incident(id).await.unwrap().is_some(), "acknowledged write {id} is missing");
        }
        // Nothing beyond what was acknowledged by the end of the backup.
        let n = summary.tables["incidents"];
        assert!(n >= before_backup.len() && n <= during + 16, "{n} incidents; {} acknowledged before, {during} by the end", before_backup.len());
        // The restored database serves: a new write continues the log.
        let again = target.restore(&file).await;
        assert!(again.is_err(), "restore refuses a database that is not empty");
        let _ = std::fs::remove_file(&file);
    };
}

/// No phone number, ID number or petitioner's address is in the SQLite files in clear (database,
/// WAL and shared memory).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_phone_in_the_sqlite_files() {
    let app = TestApp::sqlite().await;
    let county = app.jurisdiction("临溪市").await;
    let phone = "13812349876";
    let (s, _) = app
        .post(
            "/api/v1/people",
            "demo-province-admin",
            json!({"jurisdiction_id": county, "name": "测试联系人", "phone": phone}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .post(
            &format!("/api/v1/people/{}/reveal", app.person("测试联系人").await),
            "demo-commander",
            json!({"field": "phone", "reason": "核对号码"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // A petition case with a phone, an ID number and an address, revealed once.
    let (case_phone, id_number, address) = (
        "13698761234",
        "330100198802021357",
        "临溪市东湖街道测试小区7幢302室",
    );
    let (s, c) = app
        .post(
            "/api/v1/cases",
            "demo-petition-clerk",
            json!({"jurisdiction_id": county, "channel": "letter",
                "petitioners": [{"name": "测试来信人", "contact": case_phone, "id_number": id_number, "address": address}],
                "title": "测试：反映噪音扰民", "grievance": "要求查处夜间施工"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (s, _) = app
        .post(
            &format!("/api/v1/cases/{}/reveal", c["id"].as_str().unwrap()),
            "demo-petition-clerk",
            json!({"petitioner": 0, "field": "id_number", "reason": "核对身份"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // A staff member's SMS channel number: sealed, shown masked.
    let staff = app.person("测试联系人").await;
    let sms = "13755550123";
    let (s, v, _) = app
        .send(
            axum::http::Method::PUT,
            &format!("/api/v1/people/{staff}/channels"),
            Some("demo-province-admin"),
            Some(axum::body::Body::from(
                json!({"channels": [{"channel": "sms", "address": sms}]}).to_string(),
            )),
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["channels"][0]["address"], "137****0123", "{v}");
    let (_, v) = app
        .get(
            &format!("/api/v1/people/{staff}/channels"),
            "demo-province-admin",
        )
        .await;
    assert_eq!(v["channels"][0]["address"], "137****0123", "{v}");
    let db = std::path::PathBuf::from(app.state.store.location());
    let mut checked = 0;
    for suffix in ["", "-wal", "-shm"] {
        let f = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if let Ok(bytes) = std::fs::read(&f) {
            checked += bytes.len();
            for secret in [phone, case_phone, id_number, address, sms] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{} holds {secret} in clear",
                    f.display()
                );
            }
        }
    }
    assert!(checked > 0);
    // The demo's own phone numbers are sealed too.
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM people WHERE phone IS NOT NULL AND phone NOT LIKE 'sealed1:%'",
    )
    .fetch_one(app.state.store.pool())
    .await
    .unwrap();
    assert_eq!(n, 0);
}
