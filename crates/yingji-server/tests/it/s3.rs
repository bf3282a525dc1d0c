//! Attachments in an S3-compatible object store (issue 23 item 5), against a real server that
//! checks every request's signature: moto's (`moto_server`, installed by `scripts/test.sh` and
//! named in YINGJI_TEST_MOTO). Uploaded, hashed, sealed and downloaded byte for byte as with the
//! other storages; with a wrong secret the store refuses the write, the upload is refused with
//! a clear error and nothing is recorded.

use std::process::{Child, Command, Stdio};

use axum::http::StatusCode;

use crate::harness::{TestApp, report_body};

/// A running moto server with a user allowed everything on S3 and one bucket, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const BUCKET: &str = "yingji-attachments";

fn field(xml: &str, tag: &str) -> String {
    xml.split_once(&format!("<{tag}>"))
        .and_then(|(_, r)| r.split_once(&format!("</{tag}>")))
        .map(|(v, _)| v.to_string())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
}

/// Starts moto, or None (with a note; in CI a failure) when it is not installed.
pub async fn moto() -> Option<Moto> {
    let bin = std::env::var("YINGJI_TEST_MOTO")
        .ok()
        .filter(|p| !p.is_empty());
    let Some(bin) = bin else {
        assert!(
            std::env::var("CI").is_err(),
            "YINGJI_TEST_MOTO is not set: scripts/test.sh installs moto's S3 server"
        );
        eprintln!(
            "YINGJI_TEST_MOTO is not set (scripts/test.sh installs moto): the S3 test is skipped"
        );
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The first four requests (the user, its key, its policy and the bucket) are let in
    // unsigned; every later one must carry a valid signature.
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {bin}: {e}"));
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut moto = Moto {
        child,
        endpoint: endpoint.clone(),
        access_key: String::new(),
        secret_key: String::new(),
    };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // IAM requests are routed by the service in their credential scope (not checked yet).
    let iam = |form: Vec<(&'static str, String)>| {
        http.post(format!("{endpoint}/"))
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDSETUP/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            )
            .form(&form)
            .send()
    };
    let v = || ("Version", "2010-05-08".to_string());
    let r = iam(vec![
        ("Action", "CreateUser".into()),
        ("UserName", "yingji".into()),
        v(),
    ])
    .await
    .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let key = iam(vec![
        ("Action", "CreateAccessKey".into()),
        ("UserName", "yingji".into()),
        v(),
    ])
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    moto.access_key = field(&key, "AccessKeyId");
    moto.secret_key = field(&key, "SecretAccessKey");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    let r = iam(vec![
        ("Action", "PutUserPolicy".into()),
        ("UserName", "yingji".into()),
        ("PolicyName", "attachments".into()),
        ("PolicyDocument", policy.into()),
        v(),
    ])
    .await
    .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = http
        .put(format!("{endpoint}/{BUCKET}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    Some(moto)
}

fn storage(m: &Moto, secret: &str) -> yingji_app::attachments::Storage {
    yingji_app::attachments::Storage::S3(Box::new(
        yingji_app::s3::S3::new(yingji_app::s3::S3Config {
            endpoint: m.endpoint.clone(),
            bucket: BUCKET.into(),
            region: "us-east-1".into(),
            access_key: m.access_key.clone(),
            secret_key: secret.into(),
            prefix: "yingji/attachments/".into(),
        })
        .unwrap(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_kept_in_an_s3_compatible_store() {
    let Some(m) = moto().await else { return };
    // Over PostgreSQL when there is one (the deployment this is for), else SQLite.
    let app = match TestApp::postgres().await {
        Some(app) => app,
        None => TestApp::sqlite().await,
    };
    // A wrong secret: the store refuses the write, and so does yingji, recording nothing.
    let wrong = app.rebuilt(|s| {
        s.with_attachments(yingji_app::attachments::Settings {
            storage: storage(&m, "not-the-secret"),
            max_bytes: yingji_app::attachments::DEFAULT_MAX_BYTES,
        })
    });
    let inc = wrong
        .post(
            "/api/v1/incidents",
            "demo-duty-officer",
            report_body(&wrong, 90).await,
        )
        .await
        .1;
    let iid = inc["id"].as_str().unwrap().to_string();
    let before = wrong.event_count().await;
    let (s, v) = super::attachments::upload(
        &wrong,
        "demo-duty-officer",
        &format!("subject_kind=incident&subject_id={iid}&file_name=a.txt"),
        b"minutes".to_vec(),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].clone()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!("unavailable")
        ),
        "{v}"
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SignatureDoesNotMatch"),
        "{v}"
    );
    assert_eq!(wrong.event_count().await, before, "nothing recorded");
    // The right one: everything as with the other storages, the files in the bucket.
    let app = wrong.rebuilt(|s| {
        s.with_attachments(yingji_app::attachments::Settings {
            storage: storage(&m, &m.secret_key),
            max_bytes: yingji_app::attachments::DEFAULT_MAX_BYTES,
        })
    });
    let (ids, letter) = super::attachments::uploads_and_downloads_on(&app).await;
    // Each is an object in the bucket, the case's letter sealed in it.
    let yingji_app::attachments::Storage::S3(s3) = storage(&m, &m.secret_key) else {
        unreachable!()
    };
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&letter);
    for id in &ids {
        let object = s3
            .get(&format!("{id}.att"))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{id} is in the bucket"));
        let text = String::from_utf8(object).unwrap();
        assert!(!text.contains(&b64), "the letter is sealed in the bucket");
    }
    // A server not configured for the store says so, naming the setting.
    let elsewhere = app.rebuilt(|s| {
        s.with_attachments(yingji_app::attachments::Settings {
            storage: yingji_app::attachments::Storage::Database,
            max_bytes: yingji_app::attachments::DEFAULT_MAX_BYTES,
        })
    });
    let (s, body) = super::attachments::download(&elsewhere, "demo-duty-officer", &ids[0]).await;
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--attachment-store s3"),
        "{v}"
    );
    let sealed =
        String::from_utf8(s3.get(&format!("{}.att", ids[1])).await.unwrap().unwrap()).unwrap();
    assert!(
        sealed.starts_with(yingji_app::subjects::PREFIX),
        "sealed with the case's key: {}",
        &sealed[..20]
    );
}
