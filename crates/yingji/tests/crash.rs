//! Durability: a load of incident reports against a running server on SQLite, `kill -9` in the
//! middle, restart. Every report that was answered 201 must be there, intact, and the event log
//! must verify.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(data: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok((200, _)) = http(port, "GET", "/healthz", None) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not come up");
}

/// A minimal HTTP/1.1 client: one request per connection.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer demo-duty-officer\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status: u16 = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let body = out
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn field(json: &str, key: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v.pointer(key).map(|x| {
        x.as_str()
            .map(str::to_string)
            .unwrap_or_else(|| x.to_string())
    })
}

#[test]
fn every_acknowledged_report_survives_kill_9() {
    let data = std::env::temp_dir().join(format!("yingji-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let mut server = start(&data, port);
    let (_, me) = http(port, "GET", "/api/v1/me", None).unwrap();
    let county = field(&me, "/jurisdiction/id").expect("jurisdiction");

    let acknowledged: Arc<Mutex<Vec<(String, u32)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..8u32 {
        let (ack, stop, county) = (acknowledged.clone(), stop.clone(), county.clone());
        workers.push(std::thread::spawn(move || {
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let headcount = 20 + (w * 1000 + i) % 400;
                let body = format!(
                    r#"{{"jurisdiction_id":"{county}","plan_id":"linxiang-city-mass-petition","kind":"event","title":"压力测试 {w}-{i}","headcount":{headcount},"fields":{{"unit":"测试单位","address":"测试地址","time":"现在","demands":"测试诉求"}}}}"#
                );
                match http(port, "POST", "/api/v1/incidents", Some(&body)) {
                    Ok((201, resp)) => {
                        let id = field(&resp, "/id").expect("id in a 201");
                        ack.lock().unwrap().push((id, headcount));
                    }
                    Ok((s, resp)) => panic!("unexpected {s}: {resp}"),
                    Err(_) => break, // the server died under us: this request was not acknowledged
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().expect("kill -9"); // SIGKILL on Unix: no shutdown, no flush
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 20,
        "too few writes before the kill: {}",
        acknowledged.len()
    );

    let mut server = start(&data, port);
    for (id, headcount) in &acknowledged {
        let (status, body) = http(port, "GET", &format!("/api/v1/incidents/{id}"), None).unwrap();
        assert_eq!(
            status, 200,
            "acknowledged incident {id} is missing after the crash"
        );
        assert_eq!(
            field(&body, "/headcount").as_deref(),
            Some(headcount.to_string().as_str())
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let verify = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    eprintln!(
        "{} acknowledged reports survived; {}",
        acknowledged.len(),
        String::from_utf8_lossy(&verify.stdout).trim()
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn audit_verify_names_an_edited_event() {
    let data = std::env::temp_dir().join(format!("yingji-tamper-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let mut server = start(&data, port);
    server.kill().unwrap();
    server.wait().unwrap();
    let ok = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(ok.status.success());
    // Edit one stored event behind yingji's back, as someone with the database file could.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let victim: String = rt.block_on(async {
        let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
        let row: (String,) =
            sqlx::query_as("SELECT id FROM events WHERE kind = 'verified' LIMIT 1")
                .fetch_one(store.pool())
                .await
                .unwrap();
        // The database refuses to change an event; someone with the database file can drop
        // that guard first, as an attacker would.
        sqlx::query("DROP TRIGGER events_no_update")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("UPDATE events SET reason = 'edited' WHERE id = ?")
            .bind(&row.0)
            .execute(store.pool())
            .await
            .unwrap();
        row.0
    });
    let bad = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("event {victim}")) && out.contains(", seq "),
        "the report must name the stream, seq and event of the first broken link: {out}"
    );
    let _ = std::fs::remove_dir_all(&data);
}
