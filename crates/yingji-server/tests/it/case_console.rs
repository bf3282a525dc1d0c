//! A petition office's work on a case in the console (issue 19): registration with the date a
//! letter was received and an ID number (sealed, shown masked); an earlier petition by the same
//! person suggested and linked in one tap, or linked by its number; the leader in charge
//! (包案领导) chosen from the jurisdiction's people; a referral (转交) to a township chosen from
//! the jurisdictions below, which opens a case there. Each form runs the API's command.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::console::{csrf_of, req, sign_in};
use crate::harness::TestApp;
use crate::on_both;

fn form(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

async fn case(app: &TestApp, name: &str, title: &str) -> Value {
    let county = app.jurisdiction("临溪市").await;
    let (s, c) = app
        .post(
            "/api/v1/cases",
            "demo-petition-clerk",
            json!({
        "jurisdiction_id": county, "channel": "letter",
        "petitioners": [{"name": name}], "title": title, "grievance": "要求维修"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    c
}

async fn api_case(app: &TestApp, id: &str) -> Value {
    let (s, v) = app
        .get(&format!("/api/v1/cases/{id}"), "demo-petition-clerk")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

on_both! {
    a_registrar_links_a_repeated_petition => |app: TestApp| async move {
        let first = case(&app, "测试来信人乙", "测试：反映村道路灯不亮").await;
        let other = case(&app, "另一来信人", "测试：反映垃圾清运不及时").await;
        let second = case(&app, "测试来信人乙", "测试：再次反映村道路灯不亮").await;
        let (fid, oid, sid) = (first["id"].as_str().unwrap(), other["id"].as_str().unwrap(), second["id"].as_str().unwrap());
        let clerk = sign_in(&app, "demo-petition-clerk").await;
        let page = req(&app, "GET", &format!("/cases/{sid}"), &clerk, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains(&format!("data-similar=\"{fid}\"")), "the earlier petition by the same name is suggested");
        assert!(!page.body.contains(&format!("data-similar=\"{oid}\"")), "another person's is not");
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", &format!("/cases/{sid}/do/link"), &clerk, Some(&form(&[("csrf", &csrf), ("case_id", fid)]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = req(&app, "GET", &format!("/cases/{sid}"), &clerk, None).await;
        assert!(page.body.contains(&format!("data-related=\"{fid}\"")), "linked");
        assert!(!page.body.contains(&format!("data-similar=\"{fid}\"")), "no longer suggested");
        assert_eq!(api_case(&app, sid).await["related_cases"], json!([fid]));

        // By number; a number that is nowhere is said in place, and nothing changes.
        let r = req(&app, "POST", &format!("/cases/{sid}/do/link"), &clerk, Some(&form(&[("csrf", &csrf), ("case_number", "临溪市信〔2099〕99999号")]))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body.contains("role=\"alert\""), "{}", r.body);
        let number = other["case_number"].as_str().unwrap();
        let r = req(&app, "POST", &format!("/cases/{sid}/do/link"), &clerk, Some(&form(&[("csrf", &csrf), ("case_number", number)]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let related = api_case(&app, sid).await["related_cases"].clone();
        assert_eq!(related, json!([fid, oid]), "{related}");

        // The township's duty officer, outside the county's office, is offered no link form.
        let town = sign_in(&app, "demo-town-duty").await;
        let page = req(&app, "GET", &format!("/cases/{sid}"), &town, None).await;
        assert!(!page.body.contains("data-action=\"link\""), "{}", page.status);
    };

    a_registrar_sets_the_leader_and_refers_the_case_down => |app: TestApp| async move {
        let c = case(&app, "测试来信人丙", "测试：反映镇区积水").await;
        let cid = c["id"].as_str().unwrap();
        let clerk = sign_in(&app, "demo-petition-clerk").await;
        let page = req(&app, "GET", &format!("/cases/{cid}"), &clerk, None).await;
        assert!(page.body.contains("data-action=\"lead\""), "{}", page.body);
        assert!(page.body.contains(">林建国</option>"), "the county's people to choose from");
        assert!(!page.body.contains(">刘洋</option>"), "not the township's");
        assert!(!page.body.contains("data-action=\"refer\""), "not before the proposal is approved");
        let lead = app.person("林建国").await;
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", &format!("/cases/{cid}/do/lead"), &clerk, Some(&form(&[("csrf", &csrf), ("person_id", &lead)]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(api_case(&app, cid).await["lead"]["name"], "林建国");

        for (who, action, b) in [
            ("demo-petition-clerk", "propose", json!({"text": "拟转交青石镇办理"})),
            ("demo-commander", "approve", json!({})),
            ("demo-secretary-general", "approve", json!({})),
        ] {
            let (s, v) = app.post(&format!("/api/v1/cases/{cid}/{action}"), who, b).await;
            assert_eq!(s, StatusCode::OK, "{action}: {v}");
        }
        let page = req(&app, "GET", &format!("/cases/{cid}"), &clerk, None).await;
        assert!(page.body.contains("data-action=\"refer\""), "{}", page.body);
        let town = app.jurisdiction("青石镇").await;
        assert!(page.body.contains(&format!("<option value=\"{town}\">青石镇</option>")));
        let r = req(&app, "POST", &format!("/cases/{cid}/do/route"), &clerk, Some(&form(&[
            ("csrf", &csrf_of(&page.body)), ("kind", "refer"), ("target_jurisdiction_id", &town), ("notice", "已转交青石镇办理")]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let v = api_case(&app, cid).await;
        assert_eq!((v["routing"]["kind"].clone(), v["routing"]["target"].clone()), (json!("refer"), json!("青石镇")), "{v}");
        let child = v["routing"]["child_case"].as_str().unwrap().to_string();
        // The township sees the case it now owns.
        let (s, ch) = app.get(&format!("/api/v1/cases/{child}"), "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK, "{ch}");
        let page = req(&app, "GET", &format!("/cases/{cid}"), &clerk, None).await;
        assert!(page.body.contains(&format!("href=\"/cases/{child}\"")));
    };

    registration_takes_the_date_received_and_an_id_number => |app: TestApp| async move {
        let clerk = sign_in(&app, "demo-petition-clerk").await;
        let page = req(&app, "GET", "/cases/new", &clerk, None).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("name=\"received_on\"") && page.body.contains("name=\"id_number\""));
        // The tests' day is 2 March 2026; the letter came on 26 February.
        let csrf = csrf_of(&page.body);
        let post = |received: &str, reason: &str, idem: &str| {
            form(&[("csrf", &csrf), ("names", "测试来信人丁"), ("channel", "letter"), ("title", "测试：反映自来水水压低"),
                ("grievance", "要求改善供水"), ("id_number", "330100198801012345"), ("received_on", received),
                ("backdate_reason", reason), ("idem", idem)])
        };
        // A day in the future is refused in words; nothing is registered.
        let r = req(&app, "POST", "/cases/new", &clerk, Some(&post("2026-03-09", "", "k1"))).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.status);
        let r = req(&app, "POST", "/cases/new", &clerk, Some(&post("2026-02-26", "", "k2"))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let cid = r.location.clone().unwrap().trim_start_matches("/cases/").to_string();
        let v = api_case(&app, &cid).await;
        assert!(v["received_at"].as_str().unwrap().starts_with("2026-02-25T16:00:00"), "midnight of 26 Feb in Shanghai: {v}");
        assert_eq!(v["petitioners"][0]["id_number"], "3301**********2345", "{v}");
        let page = req(&app, "GET", &format!("/cases/{cid}"), &clerk, None).await;
        assert!(page.body.contains("02-26 00:00"), "the page says when it was received");
        assert!(!page.body.contains("330100198801012345"), "never in full on the page");
    };
}

on_both! {
    a_replied_case_stays_findable_in_the_list_of_all_cases => |app: TestApp| async move {
        let c = case(&app, "测试来信人戊", "测试：反映公交站台破损").await;
        let cid = c["id"].as_str().unwrap();
        let today = {
            use yingji_domain::clock::Clock;
            app.clock.now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date().to_string()
        };
        for (who, action, b) in [
            ("demo-petition-clerk", "propose", json!({"text": "拟交市交通局办理"})),
            ("demo-commander", "approve", json!({})),
            ("demo-secretary-general", "approve", json!({})),
            ("demo-petition-clerk", "route", json!({"kind": "transfer", "target": "临溪市交通局", "notice": "已转市交通局"})),
            ("demo-petition-clerk", "reply", json!({"date": today, "channel": "书面", "summary": "已修复站台"})),
        ] {
            let (s, v) = app.post(&format!("/api/v1/cases/{cid}/{action}"), who, b).await;
            assert_eq!(s, StatusCode::OK, "{action}: {v}");
        }
        let clerk = sign_in(&app, "demo-petition-clerk").await;
        let open = req(&app, "GET", "/cases?show=open", &clerk, None).await;
        assert!(!open.body.contains(&format!("data-case=\"{cid}\"")), "no longer among the open ones");
        let all = req(&app, "GET", "/cases?show=all", &clerk, None).await;
        assert_eq!(all.status, StatusCode::OK, "{}", all.body);
        assert!(all.body.contains(&format!("data-case=\"{cid}\" data-status=\"replied\"")), "{}", all.body);
        let replied = req(&app, "GET", "/cases?show=all&status=replied", &clerk, None).await;
        assert!(replied.body.contains(&format!("data-case=\"{cid}\"")));
        assert!(!replied.body.contains("data-status=\"registered\""), "only replied ones");
        let registered = req(&app, "GET", "/cases?show=all&status=registered", &clerk, None).await;
        assert!(!registered.body.contains(&format!("data-case=\"{cid}\"")));
        // An unknown status is ignored, not an error.
        let r = req(&app, "GET", "/cases?show=all&status=frobnicated", &clerk, None).await;
        assert_eq!(r.status, StatusCode::OK);
        // By the day accepted, and by jurisdiction: today's case is in today, not before; in
        // the county, not in a township below it.
        let on = req(&app, "GET", &format!("/cases?show=all&from={today}&to={today}"), &clerk, None).await;
        assert!(on.body.contains(&format!("data-case=\"{cid}\"")), "{}", on.body);
        let before = req(&app, "GET", "/cases?show=all&to=2026-01-01", &clerk, None).await;
        assert!(!before.body.contains(&format!("data-case=\"{cid}\"")));
        let qingshi = app.jurisdiction("青石镇").await;
        let town = req(&app, "GET", &format!("/cases?show=all&jurisdiction={qingshi}"), &clerk, None).await;
        assert!(!town.body.contains(&format!("data-case=\"{cid}\"")));
        assert!(town.body.contains(&format!("value=\"{qingshi}\" selected")));
        let county = app.jurisdiction("临溪市").await;
        let own = req(&app, "GET", &format!("/cases?show=all&jurisdiction={county}"), &clerk, None).await;
        assert!(own.body.contains(&format!("data-case=\"{cid}\"")));
        // By category: not yet classified, so not among the administrative ones.
        let admin = req(&app, "GET", "/cases?show=all&category=administrative", &clerk, None).await;
        assert!(!admin.body.contains(&format!("data-case=\"{cid}\"")));
    };
}

on_both! {
    the_city_office_supervises_a_county_case_by_hand => |app: TestApp| async move {
        let c = case(&app, "测试来信人己", "测试：反映农贸市场噪声").await;
        let cid = c["id"].as_str().unwrap();
        // The city's duty officer, above the county, supervises it from the case page.
        let city = sign_in(&app, "demo-city-duty").await;
        let page = req(&app, "GET", &format!("/cases/{cid}"), &city, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("data-action=\"supervise\""), "{}", page.body);
        let csrf = csrf_of(&page.body);
        let r = req(&app, "POST", &format!("/cases/{cid}/do/supervise"), &city, Some(&form(&[("csrf", &csrf), ("step", "report_demanded"), ("note", "请于三日内书面报告办理进展")]))).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let v = api_case(&app, cid).await;
        let s = &v["supervision"][0];
        assert_eq!((s["step"].as_str(), s["by"]["name"].as_str(), s["note"].as_str()), (Some("report_demanded"), Some("何静怡"), Some("请于三日内书面报告办理进展")), "{v}");
        let page = req(&app, "GET", &format!("/cases/{cid}"), &city, None).await;
        assert!(page.body.contains("data-supervised") && page.body.contains("请于三日内书面报告办理进展"));
        // The same notice as the clock's step.
        let notices = app.state.store.outbox_payloads("case_supervision").await.unwrap();
        assert!(notices.iter().any(|n| n.contains(cid)), "{notices:?}");
        // An empty note is refused through the API; a closed case cannot be supervised.
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/supervise"), "demo-city-duty", json!({"step": "chase", "note": " "})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_field")), "{v}");
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/supervise"), "demo-city-duty", json!({"step": "audit", "note": "x"})).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field")), "{v}");
        // A group member may not.
        let (s, _) = app.post(&format!("/api/v1/cases/{cid}/supervise"), "demo-group-member", json!({"step": "chase", "note": "催办"})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    };
}
