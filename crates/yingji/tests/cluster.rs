//! Three `serve` processes on one PostgreSQL database (issue 21), against the real binary on
//! real sockets: the first start of two processes at once makes one root; a console form
//! rendered by one process is accepted by another; a live page on one sees a report made on
//! another within a second; an in-app message reaches a person connected to another process;
//! an acknowledgement link issued by one works on another, at the deployment's public address;
//! a person disabled on one is refused on another at once; one of them runs the ticker and
//! another takes over when it dies; each counts the processes sending (a channel's rate is
//! shared among them); `audit verify` and `backup` run
//! against a database that takes no writes, as a standby.
//!
//! Runs when `YINGJI_TEST_POSTGRES_URL` names a PostgreSQL server (`scripts/test.sh` sets it);
//! each run makes a database of its own and drops it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sqlx::Connection;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const KEY: &str = "3f1d7c2a9b8e4d6f0a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778";
const PUBLIC: &str = "http://yingji.cluster.test";

struct Server {
    port: u16,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(url: &str) -> Server {
    let port = free_port();
    let data = std::env::temp_dir().join(format!("yingji-cluster-{port}"));
    let child = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", url, "--public-url", PUBLIC, "--data"])
        .arg(&data)
        .args(["--db-pool", "4", "--tick-seconds", "1"])
        .env("YINGJI_DATA_KEY", KEY)
        .env("RUST_LOG", "warn")
        .env_remove("YINGJI_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("server starts");
    Server { port, child }
}

fn wait_up(s: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok((200, _, _)) = http(s.port, "GET", "/healthz", &[], None) {
            return;
        }
        if let Ok(Some(status)) = s.child.try_wait() {
            panic!("server on {} exited: {status}", s.port);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server on {} did not come up", s.port);
}

/// One request per connection: (status, headers, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, &str)>,
) -> std::io::Result<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let (ctype, body) = body.unwrap_or(("application/json", ""));
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(s, "{head}\r\n{body}")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status: u16 = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    Ok((status, head.to_string(), body.to_string()))
}

fn api(
    port: u16,
    method: &str,
    path: &str,
    token: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let auth = format!("Bearer {token}");
    let text = body.to_string();
    let (s, _, b) = http(
        port,
        method,
        path,
        &[("Authorization", &auth)],
        (method == "POST").then_some(("application/json", text.as_str())),
    )
    .unwrap();
    (
        s,
        serde_json::from_str(&b).unwrap_or(serde_json::Value::String(b)),
    )
}

fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..at + 40].to_string()
}

fn cookie(head: &str, name: &str) -> String {
    head.lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or(l.strip_prefix("Set-Cookie: "))
        })
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {head}"))
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// Opens a server-sent event stream and hands its lines to a channel.
fn stream(port: u16, path: &str, header: (&str, &str)) -> mpsc::Receiver<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n{}: {}\r\n\r\n",
        header.0, header.1
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(s).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// The first line containing `needle` within `within`.
fn seen(rx: &mpsc::Receiver<String>, needle: &str, within: Duration) -> Option<String> {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(l) if l.contains(needle) => return Some(l),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

fn drain(rx: &mpsc::Receiver<String>) {
    while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
}

async fn fresh_database(admin: &str) -> (String, String) {
    let name = format!("yingji_cluster_{}", uuid::Uuid::now_v7().simple());
    let mut c = sqlx::PgConnection::connect(admin).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .await
        .unwrap();
    let (base, _) = admin.rsplit_once('/').unwrap();
    (name.clone(), format!("{base}/{name}"))
}

async fn drop_database(admin: &str, name: &str) {
    if let Ok(mut c) = sqlx::PgConnection::connect(admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut c)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_one_database_act_as_one_service() {
    let Ok(admin) = std::env::var("YINGJI_TEST_POSTGRES_URL") else {
        eprintln!("YINGJI_TEST_POSTGRES_URL is not set: the three-process test does not run");
        return;
    };
    let (name, url) = fresh_database(&admin).await;
    let result = tokio::task::spawn_blocking({
        let url = url.clone();
        move || scenario(&url)
    })
    .await;
    drop_database(&admin, &name).await;
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn scenario(url: &str) {
    // Two processes start at once on the empty database; a third joins.
    let mut a = spawn(url);
    let mut b = spawn(url);
    wait_up(&mut a);
    wait_up(&mut b);
    let mut c = spawn(url);
    wait_up(&mut c);

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let roots: i64 = rt.block_on(async {
        let mut db = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM jurisdictions WHERE parent_id IS NULL")
            .fetch_one(&mut db)
            .await
            .unwrap()
    });
    assert_eq!(roots, 1, "two first starts made one root");
    let (s, v) = api(
        a.port,
        "GET",
        "/api/v1/jurisdictions",
        "demo-province-admin",
        serde_json::json!({}),
    );
    assert_eq!(s, 200, "{v}");
    let county = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["name"] == "临溪市")
        .collect::<Vec<_>>();
    assert_eq!(county.len(), 1, "the demo was loaded once: {v}");
    let county = county[0]["id"].as_str().unwrap().to_string();

    // A console form rendered by A (the sign-in) is accepted by B; a form of B's page by C.
    let (s, head, html) = http(a.port, "GET", "/signin", &[], None).unwrap();
    assert_eq!(s, 200);
    let pre = cookie(&head, "yj_pre");
    let form = format!("csrf={}&token=demo-duty-officer&next=/", csrf_of(&html));
    let (s, head, body) = http(
        b.port,
        "POST",
        "/signin",
        &[("Cookie", &pre)],
        Some(("application/x-www-form-urlencoded", &form)),
    )
    .unwrap();
    assert_eq!(s, 303, "B accepts the sign-in form rendered by A: {body}");
    let session = cookie(&head, "yingji_session");
    let (s, _, page) = http(b.port, "GET", "/", &[("Cookie", &session)], None).unwrap();
    assert_eq!(s, 200, "{page}");

    // A live page on C sees a report made on A within a second.
    let live = stream(c.port, "/live", ("Cookie", &session));
    // An in-app message reaches 郑国平, connected to B.
    let inbox = stream(
        b.port,
        "/api/v1/inbox/stream",
        ("Authorization", "Bearer demo-group-member"),
    );
    drain(&live);
    drain(&inbox);
    let report = serde_json::json!({
        "jurisdiction_id": county,
        "plan_id": "linxiang-city-mass-petition",
        "kind": "event",
        "title": "三进程测试：群众反映拖欠工程款",
        "headcount": 120,
        "location": "市政府东门",
        "fields": { "unit": "某建筑公司", "address": "市政府东门", "time": "上午九时", "demands": "要求支付拖欠的工程款" }
    });
    let (s, v) = api(
        a.port,
        "POST",
        "/api/v1/incidents",
        "demo-duty-officer",
        report,
    );
    assert_eq!(s, 201, "{v}");
    let at = Instant::now();
    let iid = v["id"].as_str().unwrap().to_string();
    let line = seen(&live, &iid, Duration::from_secs(1));
    assert!(
        line.is_some(),
        "the live page on C saw the report made on A within a second (waited {:?})",
        at.elapsed()
    );
    for (step, who) in [
        ("verify", "demo-duty-officer"),
        ("assess", "demo-commander"),
        ("activate", "demo-commander"),
    ] {
        let (s, v) = api(
            a.port,
            "POST",
            &format!("/api/v1/incidents/{iid}/{step}"),
            who,
            serde_json::json!({}),
        );
        assert_eq!(s, 200, "{step}: {v}");
    }
    let msg = seen(&inbox, &iid, Duration::from_secs(15))
        .expect("郑国平's in-app message reached him on B");
    assert!(msg.starts_with("data:"), "{msg}");

    // The acknowledgement link, issued by whichever process sent it, works on C.
    let link: String = rt.block_on(async {
        let mut db = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(
            "SELECT ack_url FROM deliveries WHERE ack_url IS NOT NULL AND incident_id = $1::uuid LIMIT 1",
        )
        .bind(&iid)
        .fetch_one(&mut db)
        .await
        .unwrap()
    });
    assert!(
        link.starts_with(&format!("{PUBLIC}/ack/")),
        "the deployment's address: {link}"
    );
    let path = &link[PUBLIC.len()..];
    let (s, _, page) = http(c.port, "GET", path, &[], None).unwrap();
    assert_eq!(s, 200, "{page}");
    assert!(
        page.contains("method=\"post\"") && !page.contains("链接无效"),
        "C accepts A's link: {page}"
    );

    // A person disabled on A is refused on B at once (B had them cached a moment before).
    let (s, me) = api(
        b.port,
        "GET",
        "/api/v1/me",
        "demo-group-member",
        serde_json::json!({}),
    );
    assert_eq!(s, 200, "{me}");
    let member = me["person_id"].as_str().unwrap().to_string();
    let (s, v) = api(
        a.port,
        "POST",
        &format!("/api/v1/people/{member}/disable"),
        "demo-province-admin",
        serde_json::json!({"reason": "调离岗位"}),
    );
    assert_eq!(s, 204, "{v}");
    let deadline = Instant::now() + Duration::from_millis(500);
    let mut refused = false;
    while Instant::now() < deadline {
        let (s, _) = api(
            b.port,
            "GET",
            "/api/v1/me",
            "demo-group-member",
            serde_json::json!({}),
        );
        if s == 401 || s == 403 {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        refused,
        "B refused the person disabled on A within half a second"
    );

    // One process of the three runs the ticker; when it dies, another takes over.
    let leads = |s: &Server| -> bool {
        let (st, _, text) = http(s.port, "GET", "/metrics", &[], None).unwrap();
        assert_eq!(st, 200, "{text}");
        text.lines().any(|l| l == "yingji_ticker_leader 1")
    };
    let mut servers = vec![a, b, c];
    let deadline = Instant::now() + Duration::from_secs(10);
    let leader = loop {
        let now: Vec<usize> = (0..3).filter(|&i| leads(&servers[i])).collect();
        assert!(now.len() <= 1, "two tickers lead at once: {now:?}");
        if now.len() == 1 {
            break now[0];
        }
        assert!(Instant::now() < deadline, "no ticker leads");
        std::thread::sleep(Duration::from_millis(200));
    };
    // Every process knows there are three sending (each takes a third of a channel's rate).
    let processes = |s: &Server| -> Option<String> {
        let (_, _, text) = http(s.port, "GET", "/metrics", &[], None).unwrap();
        text.lines()
            .find(|l| l.starts_with("yingji_processes "))
            .map(str::to_string)
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !servers
        .iter()
        .all(|s| processes(s).as_deref() == Some("yingji_processes 3"))
    {
        assert!(Instant::now() < deadline, "not every process counts three");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(servers.remove(leader));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let now: Vec<usize> = (0..2).filter(|&i| leads(&servers[i])).collect();
        assert!(now.len() <= 1, "two tickers lead at once: {now:?}");
        if now.len() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no process took over the ticker");
        std::thread::sleep(Duration::from_millis(200));
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while !servers
        .iter()
        .all(|s| processes(s).as_deref() == Some("yingji_processes 2"))
    {
        assert!(Instant::now() < deadline, "the two left do not count two");
        std::thread::sleep(Duration::from_millis(200));
    }
    drop(servers);

    // The read-only commands work against a database that takes no writes (as a standby).
    let standby = format!("{url}?options=-c%20default_transaction_read_only%3Don");
    let out = std::env::temp_dir().join(format!("yingji-cluster-{}.backup", std::process::id()));
    for args in [
        vec!["audit", "verify"],
        vec!["backup", "--out", out.to_str().unwrap()],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_yingji"))
            .args(&args)
            .args(["--database-url", &standby])
            .env("YINGJI_DATA_KEY", KEY)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.status.success(),
            "{args:?} on a read-only database: {text}"
        );
        if args[0] == "audit" {
            assert!(text.contains("every hash chain intact"), "{text}");
        }
    }
    assert!(std::fs::metadata(&out).unwrap().len() > 1000);
    let _ = std::fs::remove_file(&out);
}
