//! Erasure that erases (issue 18 item 6): after `yingji purge`, nothing left in the database —
//! rows, events, free pages, the SQLite WAL — nor in a backup taken after the purge opens to an
//! erased value, with the data key or any key still present.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::json;
use uuid::Uuid;
use yingji_app::cases::{SEALED_FIELDS, event_aad, petitioner_aad};
use yingji_app::notices::notice_aad;
use yingji_app::sealer::Sealer;
use yingji_app::subjects::SubjectKey;
use yingji_store::SubjectKeyRow;

use crate::harness::TestApp;
use crate::on_both;

/// Every `<prefix><hex key id or uuid>:<hex>` token in `bytes`.
fn tokens(bytes: &[u8], prefix: &str) -> Vec<String> {
    let p = prefix.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i + p.len() <= bytes.len() {
        if &bytes[i..i + p.len()] != p {
            i += 1;
            continue;
        }
        let start = i;
        i += p.len();
        // The key id: hex digits and dashes (a uuid), then `:`.
        while i < bytes.len() && (bytes[i].is_ascii_hexdigit() || bytes[i] == b'-') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b':' {
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            i += 1;
        }
        out.push(String::from_utf8_lossy(&bytes[start..i]).into_owned());
    }
    out
}

/// What an attacker holding `sealer` (the data key) can open among the sealed tokens of
/// `bytes`, trying every place a value of case `case_id` (petitioner 0) may be sealed for, the
/// contacts sealed for `outbox_ids`, and the case's wrapped subject key under any key id seen.
fn openable(bytes: &[u8], sealer: &Sealer, case_id: Uuid, outbox_ids: &[Uuid]) -> Vec<String> {
    let sealed = tokens(bytes, yingji_app::sealer::PREFIX);
    let subject = tokens(bytes, yingji_app::subjects::PREFIX);
    let mut key_ids: Vec<Uuid> = subject
        .iter()
        .filter_map(|t| yingji_app::subjects::key_id_of(t))
        .collect();
    key_ids.sort();
    key_ids.dedup();
    let mut aads = vec![];
    for f in SEALED_FIELDS {
        aads.push(petitioner_aad(case_id, 0, f));
        aads.push(event_aad(case_id, 0, f));
    }
    aads.extend(outbox_ids.iter().map(|o| notice_aad(*o)));
    let mut opened = vec![];
    let mut keys = vec![];
    for t in &sealed {
        for aad in &aads {
            if let Ok(v) = sealer.open(t, aad) {
                opened.push(v);
            }
        }
        // A wrapped subject key of the case.
        for id in &key_ids {
            let row = SubjectKeyRow {
                id: *id,
                subject_kind: "case".into(),
                subject_id: case_id,
                wrapped_key: t.clone(),
            };
            if let Ok(k) = SubjectKey::unwrap(sealer, &row) {
                keys.push(k);
            }
        }
    }
    for t in &subject {
        for k in &keys {
            for f in SEALED_FIELDS {
                for aad in [petitioner_aad(case_id, 0, f), event_aad(case_id, 0, f)] {
                    if let Ok(v) = k.open(t, &aad) {
                        opened.push(v);
                    }
                }
            }
        }
    }
    opened
}

fn holds(bytes: &[u8], s: &str) -> bool {
    bytes.windows(s.len()).any(|w| w == s.as_bytes())
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("yingji-erasure-{}-{name}", Uuid::now_v7().simple()))
}

async fn outbox_ids(app: &TestApp) -> Vec<Uuid> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT CAST(id AS TEXT) FROM outbox")
        .fetch_all(app.state.store.pool())
        .await
        .unwrap();
    rows.iter().map(|r| r.0.parse().unwrap()).collect()
}

on_both! {
    purge_leaves_nothing_that_opens_to_an_erased_value => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        // Fictional personal data.
        let (phone, id_number, address) = (
            "13877770321",
            "330100197707073219",
            "临溪市测试镇虚构村八组21号",
        );
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": county, "channel": "letter",
            "petitioners": [{"name": "测试来信人", "contact": phone, "id_number": id_number, "address": address}],
            "title": "测试：反映排水沟堵塞", "grievance": "要求疏通排水沟"})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        let cid: Uuid = c["id"].as_str().unwrap().parse().unwrap();
        let reveal = format!("/api/v1/cases/{cid}/reveal");
        let (s, v) = app.post(&reveal, "demo-petition-clerk", json!({"petitioner": 0, "field": "contact", "reason": "电话回访"})).await;
        assert_eq!((s, v["value"].clone()), (StatusCode::OK, json!(phone)), "{v}");
        // Sealed with the case's own key, not the data key.
        let key = app.state.store.subject_key("case", cid).await.unwrap().expect("the case's key");
        let rec = app.state.store.get_case(cid).await.unwrap().unwrap();
        assert!(rec.petitioners[0].contact.as_deref().unwrap().starts_with(&format!("subject1:{}:", key.id)));
        // Taken to a reply, with a notice to the petitioner (sent to the contact they gave).
        let today = {
            use yingji_domain::clock::Clock;
            app.clock.now().to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap()).date().to_string()
        };
        for (who, action, b) in [
            ("demo-petition-clerk", "propose", json!({"text": "拟交市住建局办理"})),
            ("demo-commander", "approve", json!({})),
            ("demo-secretary-general", "approve", json!({})),
            ("demo-petition-clerk", "route", json!({"kind": "transfer", "target": "临溪市住建局", "notice": "您反映的问题已转送市住建局"})),
            ("demo-petition-clerk", "reply", json!({"date": today, "channel": "书面邮寄", "summary": "已疏通"})),
        ] {
            let (s, v) = app.post(&format!("/api/v1/cases/{cid}/{action}"), who, b).await;
            assert_eq!(s, StatusCode::OK, "{action}: {v}");
        }
        let outbox = outbox_ids(&app).await;
        let (notices,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE kind = 'petitioner_notice'")
            .fetch_one(app.state.store.pool()).await.unwrap();
        assert_eq!(notices, 1, "a notice to the petitioner, its contact sealed for the row");
        let sealer = app.state.sealer.clone();

        // A backup taken before the purge.
        let before = temp("before.jsonl");
        app.state.store.backup(&before).await.unwrap();

        let cutoff = {
            use yingji_domain::clock::Clock;
            app.clock.now().checked_add(jiff::SignedDuration::from_secs(1)).unwrap()
        };
        let (report, erased) = yingji_app::cases::purge(
            &app.state,
            &yingji_app::Actor::system(),
            &yingji_app::cases::PurgePetitioners { cutoff, retention_days: None, dry_run: false },
        ).await.unwrap();
        assert!(report.cases >= 1 && erased.unwrap(), "{report:?}");
        let after = temp("after.jsonl");
        app.state.store.backup(&after).await.unwrap();

        // The key is gone; a reveal answers "purged", not an error; the timeline still shows
        // the registration, its masks no longer readable.
        assert_eq!(app.state.store.subject_key("case", cid).await.unwrap(), None);
        let (s, v) = app.post(&reveal, "demo-petition-clerk", json!({"petitioner": 0, "field": "address", "reason": "核对地址"})).await;
        assert_eq!((s, v["value"].clone(), v["purged"].clone()), (StatusCode::OK, json!(null), json!(true)), "{v}");
        let (s, tl) = app.get(&format!("/api/v1/cases/{cid}/timeline"), "demo-auditor").await;
        assert_eq!(s, StatusCode::OK, "{tl}");
        let reg = tl["items"].as_array().unwrap().iter().find(|e| e["kind"] == "registered").unwrap();
        assert_eq!(reg["payload"]["case"]["petitioners"][0]["name"], "测试来信人");
        assert_eq!(reg["payload"]["case"]["petitioners"][0]["contact"], json!(null), "{reg}");
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty(), "the hash chains still verify: {:?}", report.broken);

        // Every file: the backup after the purge (every row of every table, both backends),
        // and SQLite's database, WAL and shared-memory files.
        let mut files = vec![after.clone()];
        if matches!(app.state.store.backend(), yingji_store::Backend::Sqlite) {
            let db = app.state.store.location().to_string();
            for suffix in ["", "-wal", "-shm"] {
                files.push(PathBuf::from(format!("{db}{suffix}")));
            }
        }
        let erased_values = [phone, id_number, address];
        for f in &files {
            let Ok(bytes) = std::fs::read(f) else { continue };
            for v in erased_values {
                assert!(!holds(&bytes, v), "{} holds {v} in clear", f.display());
            }
            let opened = openable(&bytes, &sealer, cid, &outbox);
            for v in erased_values {
                assert!(!opened.iter().any(|o| o == v), "{} still opens to {v}", f.display());
            }
            // Not even the masks open.
            assert!(
                !opened.iter().any(|o| o.contains("****")),
                "{} still opens to a mask: {opened:?}",
                f.display()
            );
        }

        // The backup taken before the purge still holds the case's key, wrapped with the data
        // key, beside the values sealed with it: it opens with the data key until that backup
        // expires (docs/security.md, "Retention and purge"). This checks the documented limit.
        let bytes = std::fs::read(&before).unwrap();
        let opened = openable(&bytes, &sealer, cid, &outbox);
        assert!(opened.iter().any(|o| o == phone), "{opened:?}");
        for f in [&before, &after] {
            let _ = std::fs::remove_file(f as &Path);
        }
    };

    dispute_parties_names_are_sealed_and_purged_with_their_key => |app: TestApp| async move {
        let town = app.jurisdiction("青石镇").await;
        let (first, second) = ("测试甲某某", "测试乙某某");
        let (s, d) = app.post("/api/v1/disputes", "demo-town-duty", json!({
            "jurisdiction_id": town, "title": "测试：宅基地边界纠纷",
            "parties": [{"name": first, "role": "申请方"}, {"name": second, "role": "被申请方"}],
            "nature": "土地", "area": "测试村三组", "risk": "medium"})).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        assert_eq!(d["parties"][0]["name"], first, "shown to who may see the dispute");
        let did: Uuid = d["id"].as_str().unwrap().parse().unwrap();
        for (action, body) in [
            ("assign", json!({"unit": "青石镇司法所"})),
            ("result", json!({"resolved": true, "result": "达成协议"})),
            ("close", json!({})),
        ] {
            let (s, v) = app.post(&format!("/api/v1/disputes/{did}/{action}"), "demo-town-duty", body).await;
            assert_eq!((s, v["parties"][1]["name"].clone()), (StatusCode::OK, json!(second)), "{action}: {v}");
        }
        let (_, v) = app.get(&format!("/api/v1/disputes/{did}"), "demo-town-duty").await;
        assert_eq!(v["parties"][0]["name"], first, "{v}");
        let (_, v) = app.get(&format!("/api/v1/disputes?jurisdiction_id={town}"), "demo-town-duty").await;
        assert!(v["items"].as_array().unwrap().iter().any(|x| x["parties"][0]["name"] == first), "{v}");
        // Never in clear in the database: rows and events hold them sealed with the dispute's key.
        let key = app.state.store.subject_key("dispute", did).await.unwrap().expect("the dispute's key");
        let before = temp("dispute-before.jsonl");
        app.state.store.backup(&before).await.unwrap();
        let bytes = std::fs::read(&before).unwrap();
        for name in [first, second] {
            assert!(!holds(&bytes, name), "{name} in clear in the backup");
        }
        assert!(holds(&bytes, &format!("subject1:{}:", key.id)));

        let cutoff = {
            use yingji_domain::clock::Clock;
            app.clock.now().checked_add(jiff::SignedDuration::from_secs(1)).unwrap()
        };
        let (report, _) = yingji_app::cases::purge(
            &app.state,
            &yingji_app::Actor::system(),
            &yingji_app::cases::PurgePetitioners { cutoff, retention_days: None, dry_run: false },
        ).await.unwrap();
        assert!(report.disputes >= 1, "{report:?}");
        assert_eq!(app.state.store.subject_key("dispute", did).await.unwrap(), None);
        // The dispute, its roles and its history stay; the names answer empty.
        let (s, v) = app.get(&format!("/api/v1/disputes/{did}"), "demo-town-duty").await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["parties"], json!([{"name": "", "role": "申请方"}, {"name": "", "role": "被申请方"}]));
        assert_eq!(v["status"], "closed");
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty(), "{:?}", report.broken);
        // Nothing opens to a name: the backup after the purge, and SQLite's files.
        let after = temp("dispute-after.jsonl");
        app.state.store.backup(&after).await.unwrap();
        let mut files = vec![after.clone()];
        if matches!(app.state.store.backend(), yingji_store::Backend::Sqlite) {
            let db = app.state.store.location().to_string();
            for suffix in ["", "-wal", "-shm"] {
                files.push(PathBuf::from(format!("{db}{suffix}")));
            }
        }
        let aads: Vec<String> = (0..2)
            .flat_map(|i| [yingji_app::disputes::party_aad(did, i), yingji_app::disputes::event_party_aad(did, i)])
            .collect();
        let sealer = app.state.sealer.clone();
        for f in &files {
            let Ok(bytes) = std::fs::read(f) else { continue };
            for name in [first, second] {
                assert!(!holds(&bytes, name), "{} holds {name}", f.display());
            }
            // The key, wrapped with the data key, is nowhere.
            let wrap = SubjectKeyRow { id: key.id, subject_kind: "dispute".into(), subject_id: did, wrapped_key: String::new() };
            for t in tokens(&bytes, yingji_app::sealer::PREFIX) {
                let row = SubjectKeyRow { wrapped_key: t.clone(), ..wrap.clone() };
                assert!(SubjectKey::unwrap(&sealer, &row).is_err(), "{} holds the dispute's key", f.display());
                for aad in &aads {
                    assert!(sealer.open(&t, aad).is_err());
                }
            }
        }
        for f in [&before, &after] {
            let _ = std::fs::remove_file(f as &Path);
        }
    };

    personal_intake_values_are_sealed_masked_and_purged => |app: TestApp| async move {
        let county = app.jurisdiction("临溪市").await;
        // A plan version whose intake form has a field marked personal.
        let (_, plan) = app.get("/api/v1/plans/linxiang-city-mass-petition", "demo-duty-officer").await;
        let src = plan["source"].as_str().unwrap().to_string();
        assert!(src.contains("\n[aftermath]"));
        let revised = src.replacen("\n[aftermath]", "\n[[intake]]\nid = \"reporter_contact\"\nlabel = \"反映人联系方式\"\nkind = \"text\"\nrequired = false\npersonal = true\n\n[aftermath]", 1);
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": revised})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        // `personal` is for free text only.
        let wrong = src.replacen("\n[aftermath]", "\n[[intake]]\nid = \"when_seen\"\nlabel = \"发现时间\"\nkind = \"datetime\"\npersonal = true\n\n[aftermath]", 1);
        let (s, v) = app.post("/api/v1/plans", "demo-duty-officer", json!({"jurisdiction_id": county, "source": wrong})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("plan_check_failed")), "{v}");
        let contact = "测试人王某某13866660457";
        let mut body = crate::harness::report_body(&app, 30).await;
        body["fields"]["reporter_contact"] = json!(contact);
        let (s, inc) = app.post("/api/v1/incidents", "demo-duty-officer", body).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        assert_eq!(inc["fields"]["reporter_contact"], "****", "masked for everyone: {inc}");
        assert_eq!(inc["fields"]["demands"], "要求支付拖欠的工程款", "other fields as they were");
        let iid: Uuid = inc["id"].as_str().unwrap().parse().unwrap();
        let (_, v) = app.get(&format!("/api/v1/incidents/{iid}"), "demo-duty-officer").await;
        assert_eq!(v["fields"]["reporter_contact"], "****", "{v}");
        let (_, tl) = app.get(&format!("/api/v1/incidents/{iid}/timeline"), "demo-duty-officer").await;
        let reported = tl["items"].as_array().unwrap().iter().find(|e| e["kind"] == "reported").unwrap();
        assert_eq!(reported["payload"]["report"]["fields"]["reporter_contact"], "****", "{reported}");
        assert!(!tl.to_string().contains("13866660457"));
        // Sealed with the incident's key in its event.
        let key = app.state.store.subject_key("incident", iid).await.unwrap().expect("the incident's key");
        let events = app.state.store.stream_events(iid).await.unwrap();
        let payload = &events.iter().find(|e| e.envelope.kind == "reported").unwrap().envelope.payload;
        assert!(payload.contains(&format!("subject1:{}:", key.id)), "{payload}");
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/unfounded"), "demo-duty-officer", json!({"reason": "经核实，现场无人聚集"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");

        let cutoff = {
            use yingji_domain::clock::Clock;
            app.clock.now().checked_add(jiff::SignedDuration::from_secs(1)).unwrap()
        };
        let (report, _) = yingji_app::cases::purge(
            &app.state,
            &yingji_app::Actor::system(),
            &yingji_app::cases::PurgePetitioners { cutoff, retention_days: None, dry_run: false },
        ).await.unwrap();
        assert_eq!(report.incidents, 1, "{report:?}");
        assert_eq!(app.state.store.subject_key("incident", iid).await.unwrap(), None);
        let report = app.state.store.verify(None).await.unwrap();
        assert!(report.broken.is_empty(), "{:?}", report.broken);
        let after = temp("incident-after.jsonl");
        app.state.store.backup(&after).await.unwrap();
        let mut files = vec![after.clone()];
        if matches!(app.state.store.backend(), yingji_store::Backend::Sqlite) {
            let db = app.state.store.location().to_string();
            for suffix in ["", "-wal", "-shm"] {
                files.push(PathBuf::from(format!("{db}{suffix}")));
            }
        }
        let sealer = app.state.sealer.clone();
        let wrap = SubjectKeyRow { id: key.id, subject_kind: "incident".into(), subject_id: iid, wrapped_key: String::new() };
        for f in &files {
            let Ok(bytes) = std::fs::read(f) else { continue };
            assert!(!holds(&bytes, "13866660457"), "{} holds the value", f.display());
            for t in tokens(&bytes, yingji_app::sealer::PREFIX) {
                let row = SubjectKeyRow { wrapped_key: t.clone(), ..wrap.clone() };
                assert!(SubjectKey::unwrap(&sealer, &row).is_err(), "{} holds the incident's key", f.display());
            }
        }
        let _ = std::fs::remove_file(&after);
    };
}

on_both! {
    personal_numbers_typed_into_free_text_are_never_stored => |app: TestApp| async move {
        // A grievance, a note and an incident's grievances with a mobile number and an ID
        // number typed in (fictional): the answers show them masked, and no row or event of the
        // database holds them in full.
        let (phone, spaced, id_number) = ("13866660417", "138 6666 0418", "33010019880808421X");
        let county = app.jurisdiction("临溪市").await;
        let (s, c) = app.post("/api/v1/cases", "demo-petition-clerk", json!({
            "jurisdiction_id": county, "channel": "letter",
            "petitioners": [{"name": "测试来信人", "contact": "13866660419"}],
            "title": "测试：反映道路积水",
            "grievance": format!("要求排水，请打{phone}或{spaced}联系，身份证{id_number}")})).await;
        assert_eq!(s, StatusCode::CREATED, "{c}");
        assert_eq!(
            c["grievance"],
            json!("要求排水，请打138****0417或138****0418联系，身份证3301**********421X"),
            "{c}"
        );
        let cid = c["id"].as_str().unwrap().to_string();
        let (s, v) = app.post(&format!("/api/v1/cases/{cid}/propose"), "demo-petition-clerk", json!({"text": format!("回电{phone}告知")})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (s, inc) = app.post("/api/v1/incidents", "demo-duty-officer", crate::harness::report_body(&app, 40).await).await;
        assert_eq!(s, StatusCode::CREATED, "{inc}");
        let iid = inc["id"].as_str().unwrap();
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/updates"), "demo-duty-officer", json!({"grievances": [format!("代表称可拨{phone}")], "note": format!("身份证{id_number}")})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["grievances"][0]["text"], json!("代表称可拨138****0417"), "{v}");
        // Nowhere in full: not in an event, not in a row.
        for needle in [phone, "13866660418", "138 6666 0418", id_number] {
            let like = format!("%{needle}%");
            let (n,): (i64,) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM events WHERE payload LIKE $1) + (SELECT COUNT(*) FROM cases WHERE CAST(body AS TEXT) LIKE $1 OR title LIKE $1) + (SELECT COUNT(*) FROM incidents WHERE CAST(body AS TEXT) LIKE $1) + (SELECT COUNT(*) FROM idempotency WHERE response LIKE $1)",
            )
            .bind(&like)
            .fetch_one(app.state.store.pool())
            .await
            .unwrap();
            assert_eq!(n, 0, "{needle} is stored in full");
        }
        // Ordinary numbers are left alone: a headcount in words, a date, an amount.
        let (s, v) = app.post(&format!("/api/v1/incidents/{iid}/updates"), "demo-duty-officer", json!({"note": "约120人，12月2日上午9时，欠款1380000元"})).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let (_, tl) = app.get(&format!("/api/v1/incidents/{iid}/timeline"), "demo-duty-officer").await;
        assert!(tl.to_string().contains("约120人，12月2日上午9时，欠款1380000元"), "{tl}");
    };
}
