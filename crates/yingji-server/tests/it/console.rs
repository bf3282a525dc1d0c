//! The web console through the router: sign-in and its cookie, CSRF on every POST, scope,
//! actions offered only when allowed, language choice, live change notices, and the message
//! catalogue's completeness. (The browser scenario is crates/yingji/tests/console_e2e.rs.)

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;
use yingji_server::pages::i18n;

use crate::harness::TestApp;
use crate::on_both;

#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    cookies: Vec<String>,
    pub(crate) body: String,
}

pub(crate) async fn req(
    app: &TestApp,
    method: &str,
    path: &str,
    cookie: &str,
    form: Option<&str>,
) -> Page {
    let mut b = Request::builder().method(method).uri(path);
    if !cookie.is_empty() {
        b = b.header(header::COOKIE, cookie);
    }
    let body = match form {
        Some(f) => {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.to_string())
        }
        None => Body::empty(),
    };
    let resp = app
        .router
        .clone()
        .oneshot(b.body(body).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let location = resp
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let cookies = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Page {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub(crate) fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 40].to_string()
}

/// Signs in through the form, as a browser does; returns the session cookie.
pub(crate) async fn sign_in(app: &TestApp, token: &str) -> String {
    let page = req(app, "GET", "/signin", "", None).await;
    let pre = page.cookies[0].split(';').next().unwrap().to_string();
    let csrf = csrf_of(&page.body);
    let r = req(
        app,
        "POST",
        "/signin",
        &pre,
        Some(&format!("csrf={csrf}&token={token}&next=/")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let set = r
        .cookies
        .iter()
        .find(|c| c.starts_with("yingji_session="))
        .expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

/// Signs in with login and password through the console's form; returns the session cookie.
pub(crate) async fn sign_in_password(
    app: &TestApp,
    login: &str,
    password: &str,
) -> Result<String, Page> {
    let page = req(app, "GET", "/signin", "", None).await;
    let pre = page.cookies[0].split(';').next().unwrap().to_string();
    let csrf = csrf_of(&page.body);
    let r = req(
        app,
        "POST",
        "/signin",
        &pre,
        Some(&format!(
            "csrf={csrf}&login={login}&password={password}&next=/cases"
        )),
    )
    .await;
    if r.status != StatusCode::SEE_OTHER {
        return Err(r);
    }
    let set = r
        .cookies
        .iter()
        .find(|c| c.starts_with("yingji_session="))
        .expect("a session cookie")
        .clone();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    Ok(set.split(';').next().unwrap().to_string())
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Registers a case through the console's form as `cookie`; returns the redirect.
async fn register_case(app: &TestApp, cookie: &str, idem: &str, contact: &str) -> Page {
    let form = req(app, "GET", "/cases/new", cookie, None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    for field in [
        "cn-channel",
        "cn-names",
        "cn-contact",
        "cn-address",
        "cn-title",
        "cn-grievance",
    ] {
        assert!(
            form.body.contains(&format!("for=\"{field}\"")),
            "labelled field {field}"
        );
    }
    let csrf = csrf_of(&form.body);
    let j = app.jurisdiction("临溪市").await;
    let body = format!(
        "csrf={csrf}&idem={idem}&jurisdiction={j}&channel=letter&form=single&names={}&contact={}&address={}&title={}&grievance={}&case_type=general",
        enc("赵某"),
        enc(contact),
        enc("临溪市青石镇某路1号"),
        enc("控制台登记测试"),
        enc("要求答复")
    );
    req(app, "POST", "/cases/new", cookie, Some(&body)).await
}

async fn incident_status(app: &TestApp, id: &str) -> String {
    let (_, v) = app
        .get(&format!("/api/v1/incidents/{id}"), "demo-duty-officer")
        .await;
    v["status"].as_str().unwrap().to_string()
}

async fn new_report(app: &TestApp, headcount: u32) -> String {
    let j = app.jurisdiction("临溪市").await;
    let (s, v) = app
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            json!({"jurisdiction_id": j, "plan_id": "linxiang-city-mass-petition", "kind": "event",
                   "title": "控制台测试", "headcount": headcount,
                   "fields": {"unit": "某村", "address": "某地", "time": "上午", "demands": "诉求"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_string()
}

on_both! {
    anonymous_pages_go_to_sign_in_and_unknown_tokens_are_refused => |app: TestApp| async move {
        let r = req(&app, "GET", "/incidents/00000000-0000-0000-0000-000000000000", "", None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert!(r.location.unwrap().starts_with("/signin?next=%2Fincidents%2F"));
        let r = req(&app, "GET", "/", "yingji_session=not-a-token", None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        // The sign-in form itself needs its CSRF token.
        let r = req(&app, "POST", "/signin", "", Some("token=demo-duty-officer")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.cookies.iter().all(|c| !c.starts_with("yingji_session=")));
        let page = req(&app, "GET", "/signin", "", None).await;
        let pre = page.cookies[0].split(';').next().unwrap().to_string();
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", "/signin", &pre, Some(&format!("csrf={csrf}&token=wrong&next=/"))).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("令牌无效"));
        // An outside `next` is not followed.
        let r = req(&app, "POST", "/signin", &pre, Some(&format!("csrf={csrf}&token=demo-duty-officer&next=//evil.example/"))).await;
        assert_eq!(r.location.as_deref(), Some("/"));
    };

    a_post_without_the_session_csrf_token_changes_nothing => |app: TestApp| async move {
        let id = new_report(&app, 120).await;
        let cookie = sign_in(&app, "demo-duty-officer").await;
        for form in ["", "csrf=0000000000000000000000000000000000000000"] {
            let r = req(&app, "POST", &format!("/incidents/{id}/do/verify"), &cookie, Some(form)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN);
        }
        assert_eq!(incident_status(&app, &id).await, "reported");
        // Another session's token does not fit this session either.
        let other = sign_in(&app, "demo-commander").await;
        let room = req(&app, "GET", &format!("/incidents/{id}"), &other, None).await;
        let theirs = csrf_of(&room.body);
        let r = req(&app, "POST", &format!("/incidents/{id}/do/verify"), &cookie, Some(&format!("csrf={theirs}"))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // With its own token it goes through and redirects back to the room.
        let room = req(&app, "GET", &format!("/incidents/{id}"), &cookie, None).await;
        let mine = csrf_of(&room.body);
        let r = req(&app, "POST", &format!("/incidents/{id}/do/verify"), &cookie, Some(&format!("csrf={mine}"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        assert_eq!(incident_status(&app, &id).await, "verified");
    };

    the_room_offers_only_what_the_domain_allows => |app: TestApp| async move {
        let id = new_report(&app, 120).await;
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let room = req(&app, "GET", &format!("/incidents/{id}"), &cookie, None).await;
        assert_eq!(room.status, StatusCode::OK);
        assert!(room.body.contains("data-action=\"verify\""));
        assert!(!room.body.contains("data-action=\"activate\""));
        assert!(!room.body.contains("data-action=\"end\""));
        assert!(room.body.contains("data-proposed=\"II\""), "the plan's proposal is shown");
        // A refused command shows the reason in the page's language, and changes nothing:
        // ending is not the duty officer's to do (the role check comes before the state).
        let csrf = csrf_of(&room.body);
        let r = req(&app, "POST", &format!("/incidents/{id}/do/end"), &cookie, Some(&format!("csrf={csrf}&reason=x"))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("权限"), "{}", r.body);
        assert_eq!(incident_status(&app, &id).await, "reported");
        // The commander may end, but not a response that was never activated.
        let boss = sign_in(&app, "demo-plac-secretary").await;
        let room = req(&app, "GET", &format!("/incidents/{id}"), &boss, None).await;
        let csrf = csrf_of(&room.body);
        let r = req(&app, "POST", &format!("/incidents/{id}/do/end"), &boss, Some(&format!("csrf={csrf}&reason=x"))).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("当前状态下不能执行此操作"), "{}", r.body);
        assert_eq!(incident_status(&app, &id).await, "reported");
    };

    the_room_sends_a_coercive_step_to_the_named_approver_who_alone_decides => |app: TestApp| async move {
        let id = new_report(&app, 120).await;
        for (a, who) in [("verify", "demo-duty-officer"), ("assess", "demo-commander"), ("activate", "demo-commander")] {
            let (s, v) = app.post(&format!("/api/v1/incidents/{id}/{a}"), who, json!({})).await;
            assert_eq!(s, StatusCode::OK, "{a}: {v}");
        }
        let lin = app.person("林建国").await;
        let room_of = |cookie: String| {
            let app = &app;
            let id = id.clone();
            async move { req(app, "GET", &format!("/incidents/{id}"), &cookie, None).await }
        };
        // The 政法委书记 may request (naming 林建国) and record the consultation.
        let boss = sign_in(&app, "demo-plac-secretary").await;
        let room = room_of(boss.clone()).await;
        // Once a level stands, the plan's earlier proposal is no longer shown beside it.
        assert!(room.body.contains("data-level=\"II\"") && !room.body.contains("data-proposed="), "{}", room.body);
        // The timeline says what an entry was about: an update's note and headcount.
        let (s, v) = app.post(&format!("/api/v1/incidents/{id}/updates"), "demo-duty-officer", json!({"headcount": 130, "note": "现场秩序平稳，测试备注"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let room = room_of(boss.clone()).await;
        assert!(room.body.contains("人数130人；现场秩序平稳，测试备注"), "{}", room.body);
        assert!(room.body.contains(&format!("action=\"/incidents/{id}/do/coercive-steps\"")), "{}", room.body);
        assert!(room.body.contains(&format!("action=\"/incidents/{id}/do/consultations\"")));
        assert!(room.body.contains(&format!("<option value=\"{lin}\">林建国")), "the approver is offered");
        // 林建国 may not request what only he could approve: no one else holds the post.
        let lin_cookie = sign_in(&app, "demo-commander").await;
        let room_lin = room_of(lin_cookie.clone()).await;
        assert!(!room_lin.body.contains("/do/coercive-steps\""), "{}", room_lin.body);
        // Police first needs the consultation.
        let csrf = csrf_of(&room.body);
        let police = format!("csrf={csrf}&step=police&approver_id={lin}&reason=%E5%86%B2%E5%87%BB%E5%A4%A7%E9%97%A8");
        let r = req(&app, "POST", &format!("/incidents/{id}/do/coercive-steps"), &boss, Some(&police)).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert!(r.body.contains("须先会商") || r.body.contains("先会商"), "{}", r.body);
        let consult = format!("csrf={csrf}&step=police&participants=%E5%B8%82%E4%BF%A1%E8%AE%BF%E5%B1%80%0A%E5%B8%82%E5%85%AC%E5%AE%89%E5%B1%80&conclusion=%E6%8A%A5%E8%AF%B7");
        let r = req(&app, "POST", &format!("/incidents/{id}/do/consultations"), &boss, Some(&consult)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let r = req(&app, "POST", &format!("/incidents/{id}/do/coercive-steps"), &boss, Some(&police)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let (_, inc) = app.get(&format!("/api/v1/incidents/{id}"), "demo-duty-officer").await;
        let rid = inc["coercive_steps"][0]["id"].as_str().unwrap().to_string();
        // The room shows it pending; only 林建国 is offered the decision.
        let room = room_of(boss.clone()).await;
        assert!(room.body.contains("data-coercive-state=\"pending\"") && room.body.contains("市信访局、市公安局"), "{}", room.body);
        assert!(!room.body.contains("/do/coercive-approve"));
        let room_lin = room_of(lin_cookie.clone()).await;
        assert!(room_lin.body.contains(&format!("action=\"/incidents/{id}/do/coercive-approve\"")), "{}", room_lin.body);
        // A forged decision by the requester is refused as the API refuses it.
        let r = req(&app, "POST", &format!("/incidents/{id}/do/coercive-approve"), &boss, Some(&format!("csrf={csrf}&request={rid}"))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("只有申请中指定的审批人"), "{}", r.body);
        // 林建国 approves with his own session.
        let csrf_lin = csrf_of(&room_lin.body);
        let r = req(&app, "POST", &format!("/incidents/{id}/do/coercive-approve"), &lin_cookie, Some(&format!("csrf={csrf_lin}&request={rid}"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let room = req(&app, "GET", &format!("/incidents/{id}?lang=en"), &boss, None).await;
        assert!(room.body.contains("data-coercive-state=\"approved\"") && room.body.contains("Decided by: 林建国 · "), "{}", room.body);
    };

    incidents_outside_the_viewers_jurisdiction_are_not_found => |app: TestApp| async move {
        let id = new_report(&app, 120).await;
        let town = sign_in(&app, "demo-town-duty").await;
        let r = req(&app, "GET", &format!("/incidents/{id}"), &town, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let desk = req(&app, "GET", "/", &town, None).await;
        assert!(!desk.body.contains(&id));
        let county = sign_in(&app, "demo-duty-officer").await;
        let desk = req(&app, "GET", "/", &county, None).await;
        assert!(desk.body.contains(&id));
    };

    the_intake_form_proposes_the_level_and_records_one_report_per_form => |app: TestApp| async move {
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let form = req(&app, "GET", "/report?plan=linxiang-city-mass-petition", &cookie, None).await;
        for field in ["in-unit", "in-address", "in-time", "in-headcount", "in-demands"] {
            assert!(form.body.contains(&format!("for=\"{field}\"")), "labelled field {field}");
        }
        let csrf = csrf_of(&form.body);
        let j = app.jurisdiction("临溪市").await;
        let base = format!("csrf={csrf}&plan=linxiang-city-mass-petition&idem=k-1&jurisdiction={j}&kind=event&title=T&f.unit=U&f.address=A&f.time=2026-03-02T10%3A00&f.demands=D&headcount=60");
        let preview = req(&app, "POST", "/report", &cookie, Some(&format!("{base}&step=preview"))).await;
        assert_eq!(preview.status, StatusCode::OK);
        assert!(preview.body.contains("data-level=\"III\""), "60 people: level III proposed");
        let before = app.state.store.event_count().await.unwrap();
        assert_eq!(before, app.state.store.event_count().await.unwrap(), "a preview records nothing");
        let a = req(&app, "POST", "/report", &cookie, Some(&format!("{base}&step=confirm"))).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER);
        let b = req(&app, "POST", "/report", &cookie, Some(&format!("{base}&step=confirm"))).await;
        assert_eq!(a.location, b.location, "a double submission records one report");
        let after = app.state.store.event_count().await.unwrap();
        assert!(after > before);
        // A missing required field re-shows the form with the reason.
        let bad = base.replace("&f.demands=D", "");
        let r = req(&app, "POST", "/report", &cookie, Some(&format!("{}&idem=k-2&step=confirm", bad.replace("idem=k-1&", "")))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.body.contains("报告要素"), "{}", r.body);
    };

    the_language_comes_from_the_query_the_cookie_or_the_browser => |app: TestApp| async move {
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let zh = req(&app, "GET", "/", &cookie, None).await;
        assert!(zh.body.contains("<html lang=\"zh-CN\">") && zh.body.contains("值班台"));
        let en = req(&app, "GET", "/?lang=en", &cookie, None).await;
        assert!(en.body.contains("<html lang=\"en\">") && en.body.contains("Duty desk"));
        let sw = req(&app, "GET", "/lang/en?next=/plans", &cookie, None).await;
        assert_eq!(sw.location.as_deref(), Some("/plans"));
        // Redirects stay on the site: another host goes to the desk; a control character
        // (which a browser strips, making `/\t/evil` into `//evil`) is a 400.
        for off in ["//evil.example", "/\\evil.example", "https://evil.example/", "evil.example"] {
            let q: String = form_urlencoded::byte_serialize(off.as_bytes()).collect();
            let r = req(&app, "GET", &format!("/lang/en?next={q}"), &cookie, None).await;
            assert_eq!(r.location.as_deref(), Some("/"), "{off}");
        }
        for bad in ["/%09/evil.example", "/%0D%0ALocation:%20x", "/%0A", "/%20x"] {
            let r = req(&app, "GET", &format!("/lang/en?next={bad}"), &cookie, None).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(r.location.is_none(), "{bad}");
            let r = req(&app, "GET", &format!("/signin?next={bad}"), "", None).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        }
        let lang_cookie = sw.cookies[0].split(';').next().unwrap().to_string();
        let en = req(&app, "GET", "/plans", &format!("{cookie}; {lang_cookie}"), None).await;
        assert!(en.body.contains("<html lang=\"en\">"));
        let resp = app.router.clone().oneshot(
            Request::builder().uri("/signin").header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9,zh;q=0.5").body(Body::empty()).unwrap()
        ).await.unwrap();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains("Sign in"));
    };

    a_commit_is_announced_to_live_pages => |app: TestApp| async move {
        let mut rx = app.state.subscribe();
        let id = new_report(&app, 30).await;
        let c = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
        assert_eq!(c.stream_id.to_string(), id);
        assert_eq!(c.stream_kind, "incident");
    };

    password_sign_in_uses_sessions_and_sign_out_revokes_them => |app: TestApp| async move {
        // Wrong password: refused, in the page's language, no session.
        let r = sign_in_password(&app, "petition-registrar", "wrong-password").await.unwrap_err();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        assert!(r.body.contains("用户名或密码错误"), "{}", r.body);
        assert!(r.cookies.iter().all(|c| !c.starts_with("yingji_session=")));
        // The form itself needs its CSRF token.
        let r = req(&app, "POST", "/signin", "", Some("login=petition-registrar&password=yingji-demo-2026")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let cookie = sign_in_password(&app, "petition-registrar", yingji_app::accounts::DEMO_PASSWORD).await.unwrap();
        let q = req(&app, "GET", "/cases", &cookie, None).await;
        assert_eq!(q.status, StatusCode::OK);
        assert!(q.body.contains("高文静"), "signed in as the registrar");
        for (href, label) in [("/cases", "信访事项"), ("/disputes", "矛盾纠纷"), ("/roster", "值班表")] {
            assert!(q.body.contains(&format!("href=\"{href}\"")) && q.body.contains(label), "nav {href}");
        }
        // Signing out needs the CSRF token, and revokes the session on the server.
        let r = req(&app, "POST", "/signout", &cookie, Some("")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let csrf = csrf_of(&q.body);
        let r = req(&app, "POST", "/signout", &cookie, Some(&format!("csrf={csrf}"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let r = req(&app, "GET", "/cases", &cookie, None).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "the old cookie no longer signs in");
    };

    console_and_api_sign_in_share_one_lockout => |app: TestApp| async move {
        // Wrong passwords on the console count for the API's lockout and the reverse: one
        // sign-in path.
        for _ in 0..3 {
            let r = sign_in_password(&app, "auditor", "wrong-password").await.unwrap_err();
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        for _ in 0..2 {
            let (s, _, _) = app.send(axum::http::Method::POST, "/api/v1/session", None,
                Some(Body::from(serde_json::json!({"login": "auditor", "password": "wrong-password"}).to_string())),
                &[("content-type", "application/json")]).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED);
        }
        let r = sign_in_password(&app, "auditor", yingji_app::accounts::DEMO_PASSWORD).await.unwrap_err();
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "locked on the console too");
        assert!(r.body.contains("密码错误次数过多"), "{}", r.body);
        app.advance_mins(16);
        let cookie = sign_in_password(&app, "auditor", yingji_app::accounts::DEMO_PASSWORD).await.unwrap();
        let page = req(&app, "GET", "/", &cookie, None).await;
        assert_eq!(page.status, StatusCode::OK);
        // The console's sign-in and sign-out are events of the person, as the API's are.
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", "/signout", &cookie, Some(&format!("csrf={csrf}"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE kind IN ('signed_in', 'signed_out') AND actor_name = '许清'")
            .fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(n, 2);
    };

    a_case_registered_on_the_console_shows_its_due_date_and_masked_contact => |app: TestApp| async move {
        let cookie = sign_in_password(&app, "petition-registrar", yingji_app::accounts::DEMO_PASSWORD).await.unwrap();
        // Without the CSRF token nothing is registered.
        let before = app.state.store.event_count().await.unwrap();
        let r = req(&app, "POST", "/cases/new", &cookie, Some("channel=letter&names=x&title=t&grievance=g")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(before, app.state.store.event_count().await.unwrap());
        let r = register_case(&app, &cookie, "case-1", "13912344321").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let to = r.location.clone().unwrap();
        assert!(to.starts_with("/cases/"), "{to}");
        // A double submission registers one case.
        let again = register_case(&app, &cookie, "case-1", "13912344321").await;
        assert_eq!(again.location.as_deref(), Some(to.as_str()));
        let id = to.trim_start_matches("/cases/").to_string();
        let (_, api) = app.get(&format!("/api/v1/cases/{id}"), "demo-petition-clerk").await;
        let due = api["due"]["last_day"].as_str().unwrap().to_string();
        let page = req(&app, "GET", &to, &cookie, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains(&format!("data-due-on=\"{due}\"")), "the due date {due} is shown");
        assert!(page.body.contains(api["case_number"].as_str().unwrap()));
        assert!(page.body.contains("剩余 60 天") || page.body.contains("剩余 6"), "days left");
        assert!(page.body.contains("139****4321"), "the phone, masked");
        assert!(!page.body.contains("13912344321"), "never the raw phone");
        assert!(!page.body.contains("某路1号"), "never the raw address");
        // The registrar may classify and propose; approving is for the posts the rules name.
        assert!(page.body.contains("data-action=\"propose\""));
        assert!(!page.body.contains("data-action=\"approve\""));
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", &format!("{to}/do/propose"), &cookie, Some(&format!("csrf={csrf}&text={}", enc("交市住建局办理")))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = req(&app, "GET", &to, &cookie, None).await;
        assert!(page.body.contains("交市住建局办理") && page.body.contains("data-status=\"proposed\""));
        let r = req(&app, "POST", &format!("{to}/do/approve"), &cookie, Some(&format!("csrf={csrf}"))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert!(r.body.contains("审批"), "{}", r.body);
        // 林建国 holds the first post of the chain (分管领导): he is offered the approval.
        let lead = sign_in(&app, "demo-commander").await;
        let page = req(&app, "GET", &to, &lead, None).await;
        assert!(page.body.contains("data-action=\"approve\""));
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", &format!("{to}/do/approve"), &lead, Some(&format!("csrf={csrf}&note=ok"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let (_, api) = app.get(&format!("/api/v1/cases/{id}"), "demo-petition-clerk").await;
        assert_eq!(api["approvals"].as_array().unwrap().len(), 1);
        // The auditor sees the case but may not work on it.
        let auditor = sign_in(&app, "demo-auditor").await;
        let page = req(&app, "GET", &to, &auditor, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("data-action=\""), "no actions for the auditor");
        let q = req(&app, "GET", "/cases", &auditor, None).await;
        assert!(!q.body.contains("href=\"/cases/new\""));
        let r = req(&app, "GET", "/cases/new", &auditor, None).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    };

    the_case_queue_shows_clocks_filters_scope_and_english => |app: TestApp| async move {
        let cookie = sign_in_password(&app, "petition-registrar", yingji_app::accounts::DEMO_PASSWORD).await.unwrap();
        let to = register_case(&app, &cookie, "case-q", "13900001111").await.location.unwrap();
        let id = to.trim_start_matches("/cases/").to_string();
        let q = req(&app, "GET", "/cases", &cookie, None).await;
        assert_eq!(q.status, StatusCode::OK);
        assert!(q.body.contains(&format!("data-case=\"{id}\"")));
        assert!(q.body.contains("data-clock"), "every line has its clock");
        let overdue = req(&app, "GET", "/cases?show=overdue", &cookie, None).await;
        assert!(!overdue.body.contains(&id), "a new case is not overdue");
        // Fifty-nine days on, the case is due soon; two months on, overdue, and on the desk.
        app.advance_mins(59 * 24 * 60);
        // (The password session has ended by then; the demo token still signs in.)
        let cookie = sign_in(&app, "demo-petition-clerk").await;
        let soon = req(&app, "GET", "/cases?show=soon", &cookie, None).await;
        assert!(soon.body.contains(&id), "due soon: {}", soon.body);
        app.advance_mins(7 * 24 * 60);
        yingji_server::tick(&app.state).await.unwrap();
        // A token sign-in is a session too, which has ended a week on: sign in again.
        let cookie = sign_in(&app, "demo-petition-clerk").await;
        let overdue = req(&app, "GET", "/cases?show=overdue", &cookie, None).await;
        assert!(overdue.body.contains(&id), "overdue");
        assert!(overdue.body.contains("已超期"));
        let desk = req(&app, "GET", "/", &cookie, None).await;
        assert!(desk.body.contains("id=\"desk-cases\"") && desk.body.contains(&id));
        // A township officer sees neither the case nor its page.
        let town = sign_in(&app, "demo-town-duty").await;
        let r = req(&app, "GET", &to, &town, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let q = req(&app, "GET", "/cases", &town, None).await;
        assert!(!q.body.contains(&id));
        // English.
        let en = req(&app, "GET", "/cases?lang=en", &cookie, None).await;
        assert!(en.body.contains("Petition cases") && en.body.contains("overdue by"), "{}", en.body);
        let en = req(&app, "GET", &format!("{to}?lang=en"), &cookie, None).await;
        assert!(en.body.contains("Proposal and approvals"));
    };

    the_same_input_gets_the_same_code_from_the_api_and_the_console => |app: TestApp| async move {
        let j = app.jurisdiction("临溪市").await;
        let events = app.state.store.event_count().await.unwrap();
        // A single petition with two petitioners, through the API…
        let (s, v) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": j, "channel": "letter", "form": "single",
            "petitioners": [{"name": "甲某"}, {"name": "乙某"}],
            "title": "测试", "grievance": "要求答复",
        })).await;
        let code = v["error"]["code"].as_str().unwrap().to_string();
        assert_eq!((s, code.as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "single_one_petitioner"), "{v}");
        // …and through the console's form, by the same person.
        let cookie = sign_in(&app, "demo-petition-clerk").await;
        let form = req(&app, "GET", "/cases/new", &cookie, None).await;
        let csrf = csrf_of(&form.body);
        let r = req(&app, "POST", "/cases/new", &cookie, Some(&format!(
            "csrf={csrf}&idem=two-names&jurisdiction={j}&channel=letter&form=single&names={}&title={}&grievance={}",
            enc("甲某\n乙某"), enc("测试"), enc("要求答复")
        ))).await;
        assert_eq!(r.status, s, "{}", r.body);
        let key = format!("error.{code}");
        let text = i18n::Lang::default_lang().t(&key);
        assert!(r.body.contains(text), "the console says {code}: {}", r.body);
        // The console sign-in is one event (`signed_in`); nothing was registered.
        assert_eq!(app.state.store.event_count().await.unwrap(), events + 1, "nothing registered");

        // A case action: a topic the configuration does not know.
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": j, "channel": "letter",
            "petitioners": [{"name": "甲某"}], "title": "测试", "grievance": "要求答复",
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap();
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/classify"), "demo-petition-clerk",
            json!({"category": "administrative", "topic": "不存在的类别"})).await;
        let code = v["error"]["code"].as_str().unwrap().to_string();
        assert_eq!(code, "unknown_topic");
        let page = req(&app, "GET", &format!("/cases/{cid}"), &cookie, None).await;
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", &format!("/cases/{cid}/do/classify"), &cookie, Some(&format!(
            "csrf={csrf}&category=administrative&topic={}", enc("不存在的类别")
        ))).await;
        assert_eq!(r.status, s);
        let key = format!("error.{code}");
        assert!(r.body.contains(i18n::Lang::default_lang().t(&key)), "{}", r.body);
    };

    the_desk_roster_and_dispute_pages_show_calls_reports_holders_and_rounds => |app: TestApp| async move {
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let desk = req(&app, "GET", "/", &cookie, None).await;
        assert!(desk.body.contains("id=\"desk-calls\"") && desk.body.contains("id=\"desk-reports\""));
        // The demo's activations called posts nobody has acknowledged yet.
        assert!(desk.body.contains("待确认"), "unacknowledged calls are listed");
        let roster = req(&app, "GET", "/roster", &cookie, None).await;
        assert_eq!(roster.status, StatusCode::OK);
        assert!(roster.body.contains("市委政法委书记") && roster.body.contains("钱立新"), "who holds the post now");
        assert!(roster.body.contains("id=\"roster-gaps\"") && roster.body.contains("市财政局局长"), "a vacant post is a gap");
        // A township officer cannot look at the county's roster.
        let town = sign_in(&app, "demo-town-duty").await;
        let county = app.jurisdiction("临溪市").await;
        let r = req(&app, "GET", &format!("/roster?jurisdiction={county}"), &town, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        let street = app.jurisdiction("东湖街道").await;
        let r = req(&app, "GET", &format!("/roster?jurisdiction={street}"), &town, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "a sibling township's roster is not found");
        // A screening round with one township's return, and a dispute it found.
        let (s, round) = app.post("/api/v1/disputes/rounds", "demo-duty-officer", json!({"jurisdiction_id": county})).await;
        assert_eq!(s, StatusCode::CREATED, "{round}");
        let town_id = app.jurisdiction("青石镇").await;
        let (s, _) = app.post(&format!("/api/v1/disputes/rounds/{}/submissions", round["id"].as_str().unwrap()), "demo-town-duty",
            json!({"unit_id": town_id, "disputes_found": 1})).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, _) = app.post("/api/v1/disputes", "demo-town-duty", json!({"jurisdiction_id": town_id, "title": "控制台纠纷测试",
            "parties": [{"name": "甲", "role": "一方"}], "nature": "土地", "area": "枫林村", "risk": "high"})).await;
        assert_eq!(s, StatusCode::CREATED);
        let d = req(&app, "GET", "/disputes", &cookie, None).await;
        assert_eq!(d.status, StatusCode::OK);
        assert!(d.body.contains("控制台纠纷测试") && d.body.contains("高风险"));
        assert!(d.body.contains("data-unit-state=\"submitted\"") && d.body.contains("data-unit-state=\"missing\""));
        // The street sees neither the township's dispute nor the county's round.
        let street_duty = sign_in(&app, "demo-street-duty").await;
        let d = req(&app, "GET", "/disputes", &street_duty, None).await;
        assert!(!d.body.contains("控制台纠纷测试"));
        let en = req(&app, "GET", "/disputes?lang=en", &cookie, None).await;
        assert!(en.body.contains("Current screening round") && en.body.contains("high risk"));
        let en = req(&app, "GET", "/roster?lang=en", &cookie, None).await;
        assert!(en.body.contains("Who holds each post now"));
    };

    the_desk_shows_who_has_not_reported_today => |app: TestApp| async move {
        // A village under 青石镇 owes the township plan's daily report (15:00, in its special
        // period); at 15:01 on 12 August it has not reported.
        let town = app.jurisdiction("青石镇").await;
        let admin = "demo-province-admin";
        let (s, j) = app.post("/api/v1/jurisdictions", admin, json!({"parent_id": town, "name": "测试丁村", "kind": "village"})).await;
        assert_eq!(s, StatusCode::CREATED, "{j}");
        let (s, p) = app.post("/api/v1/people", admin, json!({"jurisdiction_id": j["id"], "name": "丁村书记", "token": "test-village-secretary-d"})).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        let (s, _) = app.post(&format!("/api/v1/jurisdictions/{}/holders", j["id"].as_str().unwrap()), admin, json!({"post_id": "village-secretaries", "person_id": p["id"]})).await;
        assert_eq!(s, StatusCode::CREATED);
        // Submitting a report needs a role with `submit_reports` there.
        let (s, g) = app.post(&format!("/api/v1/people/{}/grants/add", p["id"].as_str().unwrap()), admin, json!({"role": "group_member", "jurisdiction_id": j["id"]})).await;
        assert!(s.is_success(), "{g}");
        app.clock.set("2026-08-12T06:30:00Z".parse().unwrap());
        let cookie = sign_in(&app, "demo-town-duty").await;
        let desk = req(&app, "GET", "/", &cookie, None).await;
        assert!(desk.body.contains("测试丁村") && desk.body.contains("data-report-state=\"pending\""), "owed, not yet late");
        app.clock.set("2026-08-12T07:01:00Z".parse().unwrap());
        let desk = req(&app, "GET", "/", &cookie, None).await;
        assert!(desk.body.contains("data-report-state=\"late\"") && desk.body.contains("逾期未报"), "late");
        // Once it reports, it leaves the board.
        let (s, v) = app.post("/api/v1/reports/submissions", "test-village-secretary-d", json!({"plan_id": "township-special-period",
            "schedule_id": "daily-report", "due_at": "2026-08-12T07:00:00Z", "nil": true})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let desk = req(&app, "GET", "/", &cookie, None).await;
        assert!(!desk.body.contains("测试丁村"), "reported: off the board");
        // The street is not owed it and does not see it.
        let street = sign_in(&app, "demo-street-duty").await;
        app.clock.set("2026-08-13T07:01:00Z".parse().unwrap());
        let desk = req(&app, "GET", "/", &street, None).await;
        assert!(!desk.body.contains("测试丁村"));
    };

    plan_pages_render_the_document_check_simulation_and_diff => |app: TestApp| async move {
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let doc = req(&app, "GET", "/plans/linxiang-city-mass-petition", &cookie, None).await;
        assert_eq!(doc.status, StatusCode::OK);
        assert!(doc.body.contains("lv-orange") && doc.body.contains("现场秩序维护组"));
        let sim = req(&app, "GET", "/plans/linxiang-city-mass-petition/simulate?headcount=120", &cookie, None).await;
        assert!(sim.body.contains("II 重大"), "{}", sim.body);
        // The aftermath as the engine would make it, and the review's deadline.
        assert!(sim.body.contains("善后（假定于模拟时刻应急结束）") && sim.body.contains("落实向上访群众承诺解决的问题"), "{}", sim.body);
        assert!(sim.body.contains("总结评估期限"), "{}", sim.body);
        let diff = req(&app, "GET", "/plans/linxiang-city-mass-petition/diff", &cookie, None).await;
        assert_eq!(diff.status, StatusCode::OK);
        let none = req(&app, "GET", "/plans/no-such-plan", &cookie, None).await;
        assert_eq!(none.status, StatusCode::NOT_FOUND);
    };

    a_plan_uploaded_on_the_console_is_checked_like_the_api_and_shows_its_standing => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let cookie = sign_in(&app, "demo-duty-officer").await;
        let page = req(&app, "GET", "/plans", &cookie, None).await;
        assert!(page.body.contains("action=\"/plans\"") && page.body.contains("现行版本"), "{}", page.body);
        let csrf = csrf_of(&page.body);
        let (_, plan) = app.get("/api/v1/plans/linxiang-city-mass-petition", "demo-duty-officer").await;
        let src = plan["source"].as_str().unwrap();
        let line = "id = \"linxiang-city-mass-petition\"\n";
        let child = src.replacen(line, "id = \"linxiang-child\"\nparent = \"no-such-plan\"\n", 1);
        let form = |source: &str| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("csrf", &csrf)
                .append_pair("jurisdiction", &county)
                .append_pair("file_name", "child.toml")
                .append_pair("source", source)
                .finish()
        };
        let events = app.event_count().await;
        let r = req(&app, "POST", "/plans", &cookie, Some(&form(&child))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("P0301") && r.body.contains("child.toml:11:"), "{}", r.body);
        assert!(r.body.contains("no-such-plan"), "the form keeps its text");
        assert_eq!(app.event_count().await, events, "nothing stored");
        // A scheduled version: listed as scheduled, the older one in force.
        let v2 = src.replacen(line, "id = \"linxiang-city-mass-petition\"\neffective_on = 2026-03-05\n", 1);
        let r = req(&app, "POST", "/plans", &cookie, Some(&form(&v2))).await;
        assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some("/plans/linxiang-city-mass-petition")), "{}", r.body);
        let list = req(&app, "GET", "/plans?lang=en", &cookie, None).await;
        assert!(list.body.contains("v2 · 2026-03-05") && list.body.contains("<td class=\"in-force\">v1</td>"), "{}", list.body);
        let doc = req(&app, "GET", "/plans/linxiang-city-mass-petition?lang=en", &cookie, None).await;
        assert!(doc.body.contains("standing-scheduled") && doc.body.contains("standing-in_force"), "{}", doc.body);
        // Someone who may not upload plans is not offered the form.
        let auditor = sign_in(&app, "demo-auditor").await;
        let page = req(&app, "GET", "/plans", &auditor, None).await;
        assert!(!page.body.contains("action=\"/plans\""));
    };

    plan_and_roster_pages_refuse_whom_the_api_refuses => |app: TestApp| async move {
        // A person with no role at all: the API refuses the plans and the duty rosters with
        // 403, and so do the console's pages (they read through the same application reads).
        let county = app.jurisdiction("临溪市").await;
        let (s, p) = app.post("/api/v1/people", "demo-province-admin",
            json!({"jurisdiction_id": county, "name": "无角色人员", "token": "test-no-role-person-0001"})).await;
        assert_eq!(s, StatusCode::CREATED, "{p}");
        for path in ["/api/v1/plans", "/api/v1/plans/linxiang-city-mass-petition",
            &format!("/api/v1/jurisdictions/{county}/rosters"),
            &format!("/api/v1/jurisdictions/{county}/gaps?plan=linxiang-city-mass-petition&from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z")] {
            let (s, v) = app.get(path, "test-no-role-person-0001").await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}: {v}");
        }
        let cookie = sign_in(&app, "test-no-role-person-0001").await;
        for path in ["/plans", "/plans/linxiang-city-mass-petition", "/plans/linxiang-city-mass-petition/diff",
            "/plans/linxiang-city-mass-petition/simulate?headcount=120", "/roster"] {
            let page = req(&app, "GET", path, &cookie, None).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        }
        // The auditor (who may read plans and calls) sees them.
        let auditor = sign_in(&app, "demo-auditor").await;
        for path in ["/plans", "/plans/linxiang-city-mass-petition", "/roster"] {
            let page = req(&app, "GET", path, &auditor, None).await;
            assert_eq!(page.status, StatusCode::OK, "{path}");
        }
    };
}

/// Every key the templates and the console code use is in both catalogues, and the two
/// catalogues have the same keys.
#[test]
fn the_catalogues_are_complete() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut used = BTreeSet::new();
    let mut scan = |text: &str| {
        for pat in [".t(\"", ".f1(\"", ".f2(\""] {
            for (i, _) in text.match_indices(pat) {
                let rest = &text[i + pat.len()..];
                if let Some(end) = rest.find('"') {
                    used.insert(rest[..end].to_string());
                }
            }
        }
    };
    for sub in ["templates", "src/pages"] {
        for e in std::fs::read_dir(dir.join(sub)).unwrap() {
            scan(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
    }
    // Keys built from values (`tk`): the domain's statuses, task states and event kinds.
    for s in [
        "reported",
        "verified",
        "unfounded",
        "active",
        "ended",
        "reviewed",
        "closed",
    ] {
        used.insert(format!("status.{s}"));
    }
    for s in [
        "open",
        "acknowledged",
        "started",
        "done",
        "cancelled",
        "closed",
    ] {
        used.insert(format!("task.{s}"));
    }
    // The cases, disputes and roster pages' value-built keys.
    let groups: &[(&str, &[&str])] = &[
        (
            "case_status",
            &[
                "registered",
                "proposed",
                "approved",
                "handling",
                "replied",
                "closed",
            ],
        ),
        ("channel", &["letter", "visit", "phone", "online", "fax"]),
        (
            "supervision",
            &["chase", "report_demanded", "joint_investigation"],
        ),
        ("category", &["administrative", "judicial", "other"]),
        ("route", &["in_house", "assign", "transfer", "refer"]),
        ("extension", &["requested", "approved", "refused"]),
        (
            "satisfaction",
            &["satisfied", "basically_satisfied", "dissatisfied"],
        ),
        (
            "cases",
            &["show_soon", "show_overdue", "show_open", "show_all"],
        ),
        (
            "via",
            &[
                "rotation", "holiday", "swap", "override", "holder", "deputy", "vacant",
            ],
        ),
        ("risk", &["low", "medium", "high", "major"]),
        (
            "dispute_status",
            &[
                "registered",
                "mediating",
                "resolved",
                "unresolved",
                "closed",
            ],
        ),
        ("round_state", &["submitted", "nil", "missing"]),
        ("search_kind", &["incident", "case", "dispute"]),
        (
            "dispute_event",
            &[
                "dispute_registered",
                "dispute_assigned",
                "dispute_result",
                "dispute_followed_up",
                "dispute_reported_upward",
                "dispute_closed",
            ],
        ),
        (
            "report_state",
            &["submitted", "nil", "submitted_late", "pending", "late"],
        ),
        (
            "role",
            &[
                "duty_officer",
                "commander",
                "group_member",
                "grid_worker",
                "petition_clerk",
                "approver",
                "plan_author",
                "auditor",
                "administrator",
            ],
        ),
        ("cadence", &["monthly", "daily"]),
        ("weekday", &["1", "2", "3", "4", "5", "6", "7"]),
    ];
    for (g, vs) in groups {
        for v in *vs {
            used.insert(format!("{g}.{v}"));
        }
    }
    let srcs = i18n::sources();
    let maps: Vec<_> = srcs.iter().map(|(c, t)| (*c, i18n::flatten(t))).collect();
    for (code, m) in &maps {
        let missing: Vec<_> = used.iter().filter(|k| !m.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{code} lacks {missing:?}");
    }
    let a: BTreeSet<_> = maps[0].1.keys().collect();
    let b: BTreeSet<_> = maps[1].1.keys().collect();
    assert_eq!(
        a.symmetric_difference(&b).collect::<Vec<_>>(),
        Vec::<&&String>::new()
    );
}

on_both! {
    the_auditor_checks_the_record_and_the_reads_of_personal_data_in_the_console => |app: TestApp| async move {
        // A reveal to audit: the clerk reads a petitioner's contact, with a reason.
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": app.jurisdiction("临溪市").await, "channel": "letter",
            "petitioners": [{"name": "测试来信人", "contact": "13800000000"}],
            "title": "测试：反映路灯不亮", "grievance": "要求修复路灯"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid = c["id"].as_str().unwrap();
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/reveal"), "demo-petition-clerk", json!({"petitioner": 0, "field": "contact", "reason": "电话回访测试"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        yingji_app::ticker::checkpoint(&app.state).await.unwrap();

        let auditor = sign_in(&app, "demo-auditor").await;
        let page = req(&app, "GET", "/audit", &auditor, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("href=\"/audit\""), "the nav offers the page");
        assert!(page.body.contains("电话回访测试") && page.body.contains("信访事项 · 联系方式"), "{}", page.body);
        assert!(page.body.contains("最新签名检查点 #1"), "{}", page.body);
        assert!(page.body.contains("data-action=\"verify-record\"") && !page.body.contains("data-intact"));
        let page = req(&app, "GET", "/audit?verify=1", &auditor, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("data-intact=\"true\"") && page.body.contains("记录完整"), "{}", page.body);

        // Nobody else: no nav entry, and the page refuses as the API does.
        let duty = sign_in(&app, "demo-duty-officer").await;
        let desk = req(&app, "GET", "/", &duty, None).await;
        assert!(!desk.body.contains("href=\"/audit\""));
        let page = req(&app, "GET", "/audit", &duty, None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
    };
}
