//! The administrator's directory page (issue 19): a person added to a village, given a post
//! as deputy, a role and a sign-in from the console, then signs in with that password and sees
//! the report their post owes; the role and the post taken back the same way. People without
//! `manage_directory` get no such page. Every form runs the API's command.

use axum::http::StatusCode;

use crate::console::{csrf_of, req, sign_in, sign_in_password};
use crate::harness::TestApp;
use crate::on_both;

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The id in `data-person="…"` of the card that names this person.
fn person_id(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("<strong>{name}</strong>"))
        .expect("the person's card");
    let before = &html[..at];
    let key = "data-person=\"";
    let from = before.rfind(key).unwrap() + key.len();
    before[from..from + 36].to_string()
}

on_both! {
    an_administrator_adds_a_village_worker_who_then_signs_in => |app: TestApp| async move {
        let village = app.jurisdiction("枫林村").await;
        let admin = sign_in(&app, "demo-province-admin").await;
        let url = format!("/admin?j={village}");
        let page = req(&app, "GET", &url, &admin, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("<strong>黎春梅</strong>") && page.body.contains("data-role=\"grid_worker\""), "the demo's grid worker");
        assert!(page.body.contains("各村党支部书记、村委主任"), "posts by their names in the plans");
        let csrf = csrf_of(&page.body);
        let post = |action: &str, pairs: Vec<(&str, &str)>| {
            let mut all = vec![("csrf", csrf.as_str()), ("j", village.as_str())];
            all.extend(pairs);
            (format!("/admin/{action}"), form(&all))
        };

        let (to, body) = post("person-add", vec![("name", "测试新网格员"), ("phone", "13912345678")]);
        let r = req(&app, "POST", &to, &admin, Some(&body)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = req(&app, "GET", &url, &admin, None).await;
        assert!(page.body.contains("139****5678"), "the phone shown masked");
        assert!(!page.body.contains("13912345678"));
        let pid = person_id(&page.body, "测试新网格员");

        for (action, pairs) in [
            ("holder-add", vec![("post_id", "village-heads"), ("person_id", pid.as_str()), ("deputy", "yes")]),
            ("grant-add", vec![("person_id", pid.as_str()), ("role", "grid_worker")]),
            ("account", vec![("person_id", pid.as_str()), ("login", "test-grid-2"), ("password", "test-password-2026")]),
        ] {
            let (to, body) = post(action, pairs);
            let r = req(&app, "POST", &to, &admin, Some(&body)).await;
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        }
        let page = req(&app, "GET", &url, &admin, None).await;
        assert!(page.body.contains(&format!("data-holder=\"village-heads:{pid}\"")), "the post given");
        assert!(page.body.contains("登录名：<code>test-grid-2</code>"));

        // The new worker signs in with that password and owes the village's report.
        let worker = sign_in_password(&app, "test-grid-2", "test-password-2026").await.expect("signs in");
        let reports = req(&app, "GET", "/reports", &worker, None).await;
        assert!(reports.body.contains("data-report-slot=\"daily-two-sessions\""), "{}", reports.body);

        // Taken back: the role, then the post.
        let (to, body) = post("grant-remove", vec![("person_id", pid.as_str()), ("role", "grid_worker")]);
        assert_eq!(req(&app, "POST", &to, &admin, Some(&body)).await.status, StatusCode::SEE_OTHER);
        let (to, body) = post("holder-remove", vec![("post_id", "village-heads"), ("person_id", pid.as_str())]);
        assert_eq!(req(&app, "POST", &to, &admin, Some(&body)).await.status, StatusCode::SEE_OTHER);
        let page = req(&app, "GET", &url, &admin, None).await;
        assert!(!page.body.contains(&format!("data-holder=\"village-heads:{pid}\"")));
        let card = &page.body[page.body.find(&format!("data-person=\"{pid}\"")).unwrap()..];
        let card = &card[..card.find("</li>").unwrap()];
        assert!(!card.contains("data-role=\"grid_worker\""), "{card}");

        // A password too short is refused; nothing changes.
        let (to, body) = post("account", vec![("person_id", pid.as_str()), ("login", "test-grid-2"), ("password", "short")]);
        assert_eq!(req(&app, "POST", &to, &admin, Some(&body)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(sign_in_password(&app, "test-grid-2", "test-password-2026").await.is_ok());
    };

    only_administrators_get_the_directory_page => |app: TestApp| async move {
        let officer = sign_in(&app, "demo-duty-officer").await;
        let desk = req(&app, "GET", "/", &officer, None).await;
        assert!(!desk.body.contains("href=\"/admin\""), "no nav entry");
        let page = req(&app, "GET", "/admin", &officer, None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        let csrf = csrf_of(&desk.body);
        let county = app.jurisdiction("临溪市").await;
        let r = req(&app, "POST", "/admin/person-add", &officer, Some(&form(&[("csrf", &csrf), ("j", &county), ("name", "不应出现")]))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        // A jurisdiction outside the administrator's area is not found.
        let admin = sign_in(&app, "demo-province-admin").await;
        let r = req(&app, "GET", &format!("/admin?j={}", uuid::Uuid::now_v7()), &admin, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    };
}

on_both! {
    a_duty_officer_changes_the_rotation_from_the_roster_page => |app: TestApp| async move {
        yingji_server::demo::load_demo_extras(&app.state).await.unwrap();
        let county = app.jurisdiction("临溪市").await;
        let officer = sign_in(&app, "demo-duty-officer").await;
        let url = format!("/roster?jurisdiction={county}");
        let page = req(&app, "GET", &url, &officer, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let at = page.body.find("data-roster-edit=\"party-office-director\"").expect("an edit form for the demo's roster");
        let edit = &page.body[at..];
        let edit = &edit[..edit.find("</details>").unwrap()];
        assert!(edit.contains("王晓明\n高文静\n林建国"), "the rotation in order: {edit}");
        let csrf = csrf_of(&page.body);
        let set = |rotation: &str| form(&[("csrf", &csrf), ("j", &county), ("post", "party-office-director"), ("rotation", rotation), ("start_date", "2026-03-02")]);

        // A name that is nobody in the area is refused; the roster stays as it was.
        let r = req(&app, "POST", "/roster/set", &officer, Some(&set("林建国\n查无此人"))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        let r = req(&app, "POST", "/roster/set", &officer, Some(&set("林建国\n王晓明"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = req(&app, "GET", &url, &officer, None).await;
        let at = page.body.find("data-roster-edit=\"party-office-director\"").unwrap();
        let edit = &page.body[at..];
        assert!(edit[..edit.find("</details>").unwrap()].contains("林建国\n王晓明</textarea>"));
        let (s, v) = app.get(&format!("/api/v1/jurisdictions/{county}/rosters"), "demo-duty-officer").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let r = v["items"].as_array().unwrap().iter().find(|r| r["post"] == "party-office-director").expect("the roster");
        let names: Vec<&str> = r["rotation"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["林建国", "王晓明"], "{v}");

        // Someone who may not change rosters is offered no form.
        let member = sign_in(&app, "demo-group-member").await;
        let page = req(&app, "GET", &url, &member, None).await;
        assert!(!page.body.contains("data-roster-edit="));
    };
}

on_both! {
    a_duty_officer_reads_a_holders_phone_from_the_directory_and_it_is_logged => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        let officer = sign_in(&app, "demo-duty-officer").await;
        let url = format!("/roster?jurisdiction={county}");
        let page = req(&app, "GET", &url, &officer, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let lin = app.person("林建国").await;
        assert!(page.body.contains(&format!("data-call=\"{lin}\"")), "a phone button by each holder");
        assert!(!page.body.contains("data-phone"), "no number before it is asked for");
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", "/roster/phone", &officer, Some(&form(&[("csrf", &csrf), ("j", &county), ("person_id", &lin), ("name", "林建国"), ("post", "市委分管副书记")]))).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let at = r.body.find("data-phone>").expect("the number shown") + "data-phone>".len();
        let number = &r.body[at..at + 11];
        assert!(number.starts_with("1990000") && number.chars().all(|c| c.is_ascii_digit()), "{number}");
        assert!(r.body.contains(&format!("href=\"tel:{number}\"")));
        // The read is in the audit log, with who and why.
        let (s, log) = app.get("/api/v1/audit/disclosures", "demo-auditor").await;
        assert_eq!(s, StatusCode::OK, "{log}");
        let hit = log["items"].as_array().unwrap().iter().find(|d| d["subject_id"] == lin.as_str()).expect("logged");
        assert_eq!(hit["actor_name"], "王晓明", "{hit}");
        assert!(hit["reason"].as_str().unwrap().contains("市委分管副书记"), "{hit}");

        // A group member is offered no button, and the form is refused.
        let member = sign_in(&app, "demo-group-member").await;
        let page = req(&app, "GET", &url, &member, None).await;
        assert!(!page.body.contains("data-call="));
        let r = req(&app, "POST", "/roster/phone", &member, Some(&form(&[("csrf", &csrf_of(&page.body)), ("j", &county), ("person_id", &lin)]))).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    };
}
