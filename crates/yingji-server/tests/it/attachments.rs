//! Attachments (issue 23 item 5), as the people see it: a file uploaded onto an incident is
//! recorded with its SHA-256 in the event log and comes back byte for byte; a file over the limit
//! or of a refused type is refused with a clear error and nothing is stored; a file on a petition
//! case is personal: sealed, so that its text is in no database or attachment file, and its
//! download is logged; records outside one's area stay unseen. Both storages: the database, and
//! a directory beside a SQLite database.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{TestApp, report_body};
use crate::on_both;

const DUTY: &str = "demo-duty-officer";
const CLERK: &str = "demo-petition-clerk";

pub async fn upload(
    app: &TestApp,
    token: &str,
    query: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let (s, v, _) = app
        .send(
            Method::POST,
            &format!("/api/v1/attachments?{query}"),
            Some(token),
            Some(Body::from(bytes)),
            &[("content-type", "application/octet-stream")],
        )
        .await;
    (s, v)
}

pub async fn download(app: &TestApp, token: &str, id: &str) -> (StatusCode, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .uri(format!("/api/v1/attachments/{id}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let s = resp.status();
    (
        s,
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
}

fn photo() -> Vec<u8> {
    // A PNG signature and some bytes (every byte value, so nothing is changed on the way).
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    b.extend((0..=255u8).cycle().take(70_000));
    b
}

/// Every file under `dir` (the database, its WAL, the attachment files) as bytes.
fn files_under(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

async fn uploads_and_downloads(app: TestApp) {
    uploads_and_downloads_on(&app).await;
}

/// Uploads, downloads and refusals on `app`; answers the ids of the files stored, and the
/// bytes of the letter kept sealed (which must be in no stored form in clear or in base64).
pub async fn uploads_and_downloads_on(app: &TestApp) -> (Vec<String>, Vec<u8>) {
    let inc = app
        .post("/api/v1/incidents", DUTY, report_body(app, 120).await)
        .await
        .1;
    let iid = inc["id"].as_str().unwrap().to_string();
    let q = format!(
        "subject_kind=incident&subject_id={iid}&file_name=%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"
    );
    let bytes = photo();
    let (s, a) = upload(app, DUTY, &q, bytes.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(a["sha256"], sha.as_str());
    assert_eq!(a["media_type"], "image/png");
    assert_eq!(a["file_name"], "现场照片.png");
    assert_eq!(a["size"], bytes.len());
    let id = a["id"].as_str().unwrap().to_string();
    // The hash is in the event log.
    let events = app
        .state
        .store
        .stream_events(id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].envelope.kind, "attachment_added");
    assert!(events[0].envelope.payload.contains(&sha));
    // Listed on the incident, and downloaded byte for byte.
    let (_, list) = app
        .get(
            &format!("/api/v1/attachments?subject_kind=incident&subject_id={iid}"),
            DUTY,
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (s, got) = download(app, DUTY, &id).await;
    assert_eq!(s, StatusCode::OK);
    assert!(got == bytes, "byte-identical");
    // Over the limit: refused with a clear error, nothing stored.
    let before = app.event_count().await;
    let big = vec![b'a'; yingji_app::attachments::DEFAULT_MAX_BYTES + 1];
    let (s, e) = upload(app, DUTY, &q, big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["error"]["code"], "attachment_too_large");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("10485760"),
        "{e}"
    );
    let bigger = vec![b'a'; yingji_app::attachments::DEFAULT_MAX_BYTES + 4096];
    let (s, e) = upload(app, DUTY, &q, bigger).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["error"]["code"], "attachment_too_large");
    // A file that is not what it says: refused.
    let (s, e) = upload(
        app,
        DUTY,
        &q.replace(".png", ".pdf"),
        b"\x7fELF\x02\x01\x01\0\0\0".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert_eq!(e["error"]["code"], "attachment_type");
    // A record that does not exist, a kind that takes no attachment.
    let (s, _) = upload(
        app,
        DUTY,
        &format!(
            "subject_kind=incident&subject_id={}&file_name=a.txt",
            uuid::Uuid::now_v7()
        ),
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, e) = upload(
        app,
        DUTY,
        &format!("subject_kind=person&subject_id={iid}&file_name=a.txt"),
        b"hello".to_vec(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(app.event_count().await, before, "nothing stored");
    // Out of the area: not seen.
    let (s, _) = download(app, "demo-street-duty", &id).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A letter on a petition case is personal: sealed at rest, its download logged.
    let county = app.jurisdiction("临溪市").await;
    let (s, case) = app
        .post(
            "/api/v1/cases",
            CLERK,
            json!({
        "jurisdiction_id": county, "channel": "letter",
        "petitioners": [{ "name": "测试来信人", "contact": "13800000000" }],
        "title": "测试：反映小区路灯损坏", "grievance": "要求维修路灯"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let cid = case["id"].as_str().unwrap().to_string();
    let marker = "来信原文：寄信人住在枫桥小区七栋二单元";
    let letter = format!("{marker}\n要求尽快维修。\n").into_bytes();
    let (s, a) = upload(
        app,
        CLERK,
        &format!("subject_kind=case&subject_id={cid}&file_name=letter.txt"),
        letter.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["personal"], true);
    let lid = a["id"].as_str().unwrap().to_string();
    let (s, got) = download(app, CLERK, &lid).await;
    assert_eq!(s, StatusCode::OK);
    assert!(got == letter);
    let (_, log) = app
        .get("/api/v1/audit/disclosures", "demo-province-admin")
        .await;
    assert!(
        log.to_string().contains(&lid),
        "the download is logged: {log}"
    );
    // Nowhere in the files: neither the text nor its base64.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&letter);
    if let Some(dir) = app.data_dir() {
        // Everything written is on disk after a checkpoint.
        for (path, content) in files_under(&dir) {
            let hay = String::from_utf8_lossy(&content);
            assert!(!hay.contains(marker), "{path} holds the letter in clear");
            assert!(!hay.contains(&b64), "{path} holds the letter in base64");
        }
    }
    let report = app.state.store.verify(None).await.unwrap();
    assert!(report.broken.is_empty());
    (vec![id, lid], letter)
}

on_both! {
    an_attachment_is_hashed_sealed_and_returned_byte_for_byte => |app: TestApp| async move {
        uploads_and_downloads(app).await;
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_kept_on_disk_beside_sqlite() {
    let app = TestApp::sqlite().await;
    let dir = app.data_dir().unwrap().join("attachments");
    let app = app.rebuilt(|s| {
        s.with_attachments(yingji_app::attachments::Settings {
            storage: yingji_app::attachments::Storage::Disk(dir.clone()),
            max_bytes: yingji_app::attachments::DEFAULT_MAX_BYTES,
        })
    });
    uploads_and_downloads(app).await;
}

/// A SQLite deployment's attachments on disk go into `yingji backup`'s one file, and a restore
/// (into SQLite, and into PostgreSQL when one is configured) serves them byte for byte, though
/// the files are not on the new machine's disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_on_disk_go_into_the_backup_and_restore() {
    let app = TestApp::sqlite().await;
    let dir = app.data_dir().unwrap().join("attachments");
    let app = app.rebuilt(|s| {
        s.with_attachments(yingji_app::attachments::Settings {
            storage: yingji_app::attachments::Storage::Disk(dir.clone()),
            max_bytes: yingji_app::attachments::DEFAULT_MAX_BYTES,
        })
    });
    let inc = app
        .post("/api/v1/incidents", DUTY, report_body(&app, 80).await)
        .await
        .1;
    let iid = inc["id"].as_str().unwrap().to_string();
    let bytes = photo();
    let (s, plain) = upload(
        &app,
        DUTY,
        &format!("subject_kind=incident&subject_id={iid}&file_name=a.png"),
        bytes.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{plain}");
    let letter = "诉求书：测试内容".as_bytes().to_vec();
    let (s, sealed) = upload(
        &app,
        DUTY,
        &format!("subject_kind=incident&subject_id={iid}&file_name=b.txt&personal=true"),
        letter.clone(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{sealed}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2, "both on disk");
    let out = std::env::temp_dir().join(format!(
        "yingji-att-backup-{}.jsonl",
        uuid::Uuid::now_v7().simple()
    ));
    let summary = app.state.store.backup_with(&out, Some(&dir)).await.unwrap();
    assert_eq!(
        summary.tables.get("attachment_blobs"),
        Some(&2),
        "{summary:?}"
    );
    let mut targets = vec![crate::harness::empty_store_like(&app).await];
    if let Some(pg) = TestApp::postgres().await {
        targets.push(crate::harness::empty_store_like(&pg).await);
    }
    for (store, _guard) in targets {
        store.restore(&out).await.unwrap();
        let restored = yingji_app::App::new(store, app.clock.clone())
            .with_sealer((*app.state.sealer).clone())
            .with_attachments(yingji_app::attachments::Settings {
                storage: yingji_app::attachments::Storage::Disk(
                    std::env::temp_dir().join("yingji-no-such-dir"),
                ),
                max_bytes: yingji_app::attachments::DEFAULT_MAX_BYTES,
            });
        let system = yingji_app::Actor::system();
        for (a, want) in [(&plain, &bytes), (&sealed, &letter)] {
            let id = a["id"].as_str().unwrap().parse().unwrap();
            let (_, got) = yingji_app::attachments::download(&restored, &system, id)
                .await
                .unwrap();
            assert!(&got == want, "{} restored byte for byte", a["file_name"]);
        }
    }
    let _ = std::fs::remove_file(&out);
}

on_both! {
    the_console_uploads_through_the_same_command_with_its_csrf_token => |app: TestApp| async move {
        use crate::offers::{console_session, csrf_of, page};
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let inc = app.post("/api/v1/incidents", DUTY, report_body(&app, 120).await).await.1;
        let iid = inc["id"].as_str().unwrap().to_string();
        let cookie = console_session(&app, DUTY).await;
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(room.contains("data-action=\"attachment-add\""), "offered to the duty officer");
        let csrf = csrf_of(&room);
        let send = |token: String| {
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri(format!("/attachments/upload?subject_kind=incident&subject_id={iid}&file_name=notes.txt"))
                .header("cookie", cookie.clone())
                .header("x-csrf-token", token)
                .body(Body::from("现场记录"))
                .unwrap();
            let router = app.router.clone();
            async move {
                let r = router.oneshot(req).await.unwrap();
                let s = r.status();
                let b = r.into_body().collect().await.unwrap().to_bytes();
                (s, serde_json::from_slice::<Value>(&b).unwrap_or(Value::Null))
            }
        };
        let (s, v) = send("wrong".into()).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
        let (s, v) = send(csrf).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (_, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &cookie, None).await;
        assert!(room.contains(v["sha256"].as_str().unwrap()), "the room lists it with its hash");
        // Others are offered the upload exactly when the API accepts it from them.
        for token in ["demo-group-member", CLERK, "demo-auditor"] {
            let session = console_session(&app, token).await;
            let (s, room) = page(&app, Method::GET, &format!("/incidents/{iid}"), &session, None).await;
            let offered = s == StatusCode::OK && room.contains("data-action=\"attachment-add\"");
            let (s, v) = upload(&app, token, &format!("subject_kind=incident&subject_id={iid}&file_name=x.txt"), b"x".to_vec()).await;
            assert_eq!(offered, s == StatusCode::CREATED, "{token}: offered {offered}, API {s} {v}");
        }
        // A dispute's page too: its files (an agreement, a letter) with the upload offered to
        // those who may screen disputes there, exactly as the API accepts.
        let village = app.jurisdiction("枫林村").await;
        let (s, d) = app.post("/api/v1/disputes", "demo-town-duty", json!({
            "jurisdiction_id": village, "title": "测试：灌溉用水纠纷", "parties": [{"name": "甲户", "role": "一方"}],
            "nature": "邻里", "area": "二组", "risk": "low",
        })).await;
        assert_eq!(s, StatusCode::CREATED, "{d}");
        let did = d["id"].as_str().unwrap().to_string();
        let mut offered_to = vec![];
        for token in ["demo-town-duty", "demo-group-member", "demo-auditor"] {
            let session = console_session(&app, token).await;
            let (s, html) = page(&app, Method::GET, &format!("/disputes/{did}"), &session, None).await;
            let offered = s == StatusCode::OK && html.contains("data-action=\"attachment-add\"") && html.contains("data-kind=\"dispute\"");
            let (s, v) = upload(&app, token, &format!("subject_kind=dispute&subject_id={did}&file_name=agreement.txt"), "调解协议".as_bytes().to_vec()).await;
            assert_eq!(offered, s == StatusCode::CREATED, "{token}: offered {offered}, API {s} {v}");
            if offered {
                offered_to.push(token);
            }
        }
        assert_eq!(offered_to, vec!["demo-town-duty"]);
        let session = console_session(&app, "demo-town-duty").await;
        let (_, html) = page(&app, Method::GET, &format!("/disputes/{did}"), &session, None).await;
        assert!(html.contains("agreement.txt"), "the page lists the file");
    };
}
