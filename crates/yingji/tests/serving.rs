//! A server that stays up (issue 18 item 8), against the real binary on a real socket: headers
//! that trickle in do not take `/healthz` off the air and are cut off; sign-in attempts from one
//! address are limited; SIGTERM answers the request in flight before the process exits; a
//! database whose data was sealed with a key the server does not hold is refused at start.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(data: &Path, port: u16, extra: &[&str], stderr: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .args(extra)
        .env("RUST_LOG", "warn")
        .env_remove("YINGJI_DATA_KEY")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("server starts")
}

fn start(data: &Path, port: u16, extra: &[&str]) -> Child {
    let mut child = spawn(data, port, extra, Stdio::null());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok((200, _, _)) = http(port, "GET", "/healthz", None) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not come up");
}

/// One request per connection: (status, headers, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    read_answer(&mut s)
}

fn read_answer(s: &mut TcpStream) -> std::io::Result<(u16, String, String)> {
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

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn data_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("yingji-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn slow_headers_do_not_take_the_server_off_the_air() {
    let data = data_dir("slow");
    let port = free_port();
    let server = start(&data, port, &["--header-timeout-seconds", "2"]);
    // 300 clients that send half a request line and then nothing.
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .unwrap();
        slow.push(s);
    }
    // The service still answers, promptly.
    let t = Instant::now();
    let (status, _, body) = http(port, "GET", "/healthz", None).expect("healthz answers");
    assert_eq!(status, 200, "{body}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // A client that never finishes its headers is cut off after the header timeout.
    let mut s = slow.pop().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let t = Instant::now();
    let mut buf = [0u8; 512];
    let n = s.read(&mut buf).unwrap_or(0);
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(
        n == 0 || answer.starts_with("HTTP/1.1 408"),
        "the slow client got {answer}"
    );
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    drop(slow);
    stop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn sign_in_attempts_from_one_address_are_limited() {
    let data = data_dir("ratelimit");
    let port = free_port();
    let server = start(&data, port, &[]);
    let body = r#"{"login":"nobody-here","password":"wrong-password"}"#;
    let mut codes = Vec::new();
    for _ in 0..31 {
        let (status, head, _) = http(port, "POST", "/api/v1/session", Some(body)).unwrap();
        codes.push((status, head));
    }
    // The default is 30 a minute: the 31st is refused before any password is checked.
    assert!(
        codes[..30].iter().all(|(s, _)| *s == 401 || *s == 429),
        "{codes:?}"
    );
    let (status, head) = &codes[30];
    assert_eq!(*status, 429, "{head}");
    assert!(head.to_ascii_lowercase().contains("retry-after:"), "{head}");
    // Other requests from the same address are not limited.
    assert_eq!(http(port, "GET", "/healthz", None).unwrap().0, 200);
    stop(server);
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn sigterm_answers_the_request_in_flight() {
    let data = data_dir("drain");
    let port = free_port();
    let server = start(&data, port, &[]);
    // A request whose headers are in and whose body is still coming when SIGTERM arrives.
    let body = r#"{"login":"duty-officer","password":"not-the-password"}"#;
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    // New connections are no longer accepted…
    assert!(
        http(port, "GET", "/healthz", None).is_err(),
        "a draining server accepts nothing new"
    );
    // …but the request in flight is answered.
    s.write_all(&body.as_bytes()[10..]).unwrap();
    let (status, _, answer) = read_answer(&mut s).expect("an answer, not a reset");
    assert_eq!(status, 401, "{answer}");
    let mut server = server;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(code) = server.try_wait().unwrap() {
            assert!(code.success(), "{code:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn a_server_without_the_key_that_sealed_the_data_refuses_to_start() {
    let data = data_dir("nokey");
    let port = free_port();
    // The demo's phones are sealed with the key made at first start.
    stop(start(&data, port, &[]));
    let key = data.join("data.key");
    assert!(key.exists());
    let saved = std::fs::read_to_string(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    let out = spawn(&data, free_port(), &[], Stdio::piped())
        .wait_with_output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started without its key: {err}");
    assert!(err.contains("sealed with key"), "{err}");
    assert!(!key.exists(), "no new key was made for sealed data");
    // Another key is refused too.
    let other = data.join("other.key");
    std::fs::write(
        &other,
        "0000000000000000000000000000000000000000000000000000000000000001\n",
    )
    .unwrap();
    let out = spawn(
        &data,
        free_port(),
        &["--data-key-file", other.to_str().unwrap()],
        Stdio::piped(),
    )
    .wait_with_output()
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not hold"));
    // With the right key it starts.
    std::fs::write(&key, saved).unwrap();
    stop(start(&data, free_port(), &[]));
    let _ = std::fs::remove_dir_all(&data);
}

/// `serve --no-demo` prints the administrator's token once and no demo token (the demo's tokens
/// answer 401 there); the first start with the demo lists them.
#[test]
fn demo_tokens_are_printed_only_where_they_work() {
    let run = |name: &str, extra: &[&str]| -> (String, u16) {
        let data = data_dir(name);
        let port = free_port();
        let log = data.with_extension("log");
        std::fs::create_dir_all(data.parent().unwrap()).unwrap();
        let file = std::fs::File::create(&log).unwrap();
        let mut child = spawn(&data, port, extra, Stdio::from(file));
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("serving on")
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let (status, _, _) = http_token(port, "/api/v1/incidents", "demo-duty-officer");
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(&log).unwrap();
        let _ = std::fs::remove_dir_all(&data);
        let _ = std::fs::remove_file(&log);
        (text, status)
    };
    let (text, status) = run("nodemo", &["--no-demo"]);
    assert!(text.contains("administrator token (shown once)"), "{text}");
    assert!(
        !text.contains("demo tokens") && !text.contains("demo-duty-officer"),
        "{text}"
    );
    assert_eq!(status, 401, "a demo token does not work without the demo");
    let (text, status) = run("withdemo", &[]);
    assert!(
        text.contains("demo tokens: ") && text.contains("demo-duty-officer"),
        "{text}"
    );
    assert_eq!(status, 200);
}

/// A GET with a bearer token: the status.
fn http_token(port: u16, path: &str, token: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    read_answer(&mut s).unwrap()
}

/// `/livez`, `/readyz` and `/metrics` (issue 21): the metrics count the requests made, by
/// route pattern and status, and read the outbox and deliveries; every answer carries a request
/// id (the caller's when sane); the access log is JSON lines when standard error is not a
/// terminal; with `YINGJI_METRICS_TOKEN` set the metrics need it.
#[test]
fn probes_metrics_and_the_access_log() {
    let data = data_dir("metrics");
    let port = free_port();
    let log = data.with_extension("log");
    std::fs::create_dir_all(data.parent().unwrap()).unwrap();
    let file = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .env("RUST_LOG", "warn,access=info")
        .env("YINGJI_METRICS_TOKEN", "metrics-secret-for-the-test")
        .env_remove("YINGJI_DATA_KEY")
        .env_remove("YINGJI_LOG_FORMAT")
        .stdout(Stdio::null())
        .stderr(Stdio::from(file))
        .spawn()
        .expect("server starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(http(port, "GET", "/livez", None), Ok((200, _, _))) {
        assert!(Instant::now() < deadline, "server did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (s, _, body) = http(port, "GET", "/readyz", None).unwrap();
    assert_eq!(s, 200, "{body}");
    for _ in 0..3 {
        let (s, head, _) = http_token(port, "/api/v1/incidents?limit=5", "demo-duty-officer");
        assert_eq!(s, 200);
        assert!(
            head.to_ascii_lowercase().contains("x-request-id: "),
            "{head}"
        );
    }
    let (s, _, _) = http_token(port, "/api/v1/incidents/not-a-uuid", "demo-duty-officer");
    assert!(s >= 400);
    // The caller's request id comes back; a hostile one is replaced.
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(c, "GET /livez HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: lb-7f3a-0001\r\nConnection: close\r\n\r\n").unwrap();
    let (_, head, _) = read_answer(&mut c).unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("x-request-id: lb-7f3a-0001"),
        "{head}"
    );
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(c, "GET /livez HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: <script>x</script>\r\nConnection: close\r\n\r\n").unwrap();
    let (_, head, _) = read_answer(&mut c).unwrap();
    assert!(
        !head.contains("<script>") && head.to_ascii_lowercase().contains("x-request-id: "),
        "{head}"
    );

    // An acknowledgement link's token never reaches the log.
    let (s, _, _) = http(port, "GET", "/ack/LinkTokenThatMustNotBeLogged", None).unwrap();
    assert!(s == 200 || s >= 400);
    let (s, _, _) = http(port, "GET", "/metrics", None).unwrap();
    assert_eq!(s, 403, "the token is needed when one is set");
    let (s, head, text) = http_token(port, "/metrics", "metrics-secret-for-the-test");
    assert_eq!(s, 200, "{text}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    let line = |prefix: &str| -> Option<f64> {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    };
    assert_eq!(
        line(
            "yingji_http_requests_total{route=\"/api/v1/incidents\",method=\"GET\",status=\"200\"}"
        ),
        Some(3.0),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l
            .starts_with("yingji_http_requests_total{route=\"/api/v1/incidents/{id}\"")
            && !l.contains("not-a-uuid")),
        "the route's pattern, never its ids: {text}"
    );
    assert_eq!(
        line("yingji_http_request_seconds_count{route=\"/api/v1/incidents\",method=\"GET\"}"),
        Some(3.0),
        "{text}"
    );
    for gauge in [
        "yingji_deliveries{state=\"dead\"}",
        "yingji_search_pending",
        "yingji_writer_queue",
        "yingji_ticker_lag_seconds",
        "yingji_live_subscribers",
        "yingji_db_pool_connections{state=\"open\"}",
    ] {
        assert!(line(gauge).is_some(), "{gauge} missing: {text}");
    }
    let _ = child.kill();
    let _ = child.wait();
    // The access log: one JSON object a line (standard error is a file here), with the request
    // id, the route and the status, and no query string.
    let logged = std::fs::read_to_string(&log).unwrap();
    let access: Vec<serde_json::Value> = logged
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"] == "access")
        .collect();
    let listed = access
        .iter()
        .filter(|v| v["fields"]["route"] == "/api/v1/incidents")
        .collect::<Vec<_>>();
    assert_eq!(listed.len(), 3, "{logged}");
    assert_eq!(listed[0]["fields"]["status"], 200);
    assert_eq!(listed[0]["fields"]["path"], "/api/v1/incidents");
    assert!(
        listed[0]["fields"]["request_id"]
            .as_str()
            .is_some_and(|s| s.len() >= 32)
    );
    assert!(!logged.contains("LinkTokenThatMustNotBeLogged"), "{logged}");
    assert!(
        access.iter().any(|v| v["fields"]["path"] == "/ack/{token}"),
        "{logged}"
    );
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_file(&log);
}

/// A rolling upgrade (issue 21): `serve --no-migrate` refuses a schema that lacks its
/// migrations and names the deploy step; after `yingji migrate` it starts; and it keeps
/// starting on a schema a newer binary has migrated further, which a migrating `serve`
/// refuses.
#[test]
fn no_migrate_needs_the_deploy_step_and_accepts_a_newer_schema() {
    let data = data_dir("nomigrate");
    std::fs::create_dir_all(&data).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_yingji"))
            .args(args)
            .arg("--data")
            .arg(&data)
            .env_remove("YINGJI_DATA_KEY")
            .output()
            .unwrap()
    };
    // An empty data directory: nothing migrated yet.
    let o = run(&["serve", "--no-migrate", "--listen", "127.0.0.1:0"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("run `yingji migrate` first"), "{err}");
    let o = run(&["migrate"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let port = free_port();
    let child = start(&data, port, &["--no-migrate"]);
    stop(child);
    // A newer binary migrated further (a migration this one does not know).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", data.join("yingji.db").display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) VALUES (9999, 'a newer binary''s migration', CURRENT_TIMESTAMP, TRUE, x'00', 1)")
            .execute(&mut c)
            .await
            .unwrap();
    });
    let port = free_port();
    let child = start(&data, port, &["--no-migrate"]);
    let (s, _, _) = http_token(port, "/api/v1/incidents", "demo-duty-officer");
    assert_eq!(s, 200, "the older binary serves on the newer schema");
    stop(child);
    let o = run(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        !o.status.success(),
        "a migrating serve refuses a schema newer than it knows"
    );
    let _ = std::fs::remove_dir_all(&data);
}

/// SIGTERM ends open live streams (issue 21: a stopping process waited for them until the drain
/// period ran out): the stream closes and the process exits long before `--drain-seconds`.
#[test]
fn sigterm_ends_open_streams_at_once() {
    let data = data_dir("drainstreams");
    let port = free_port();
    let mut server = start(&data, port, &["--drain-seconds", "60"]);
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET /api/v1/inbox/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer demo-duty-officer\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut first = [0u8; 12];
    s.read_exact(&mut first).unwrap();
    assert!(
        first.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&first)
    );
    let sent = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The stream ends (the connection is closed by the server)…
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "the stream ended {:?} after SIGTERM",
        sent.elapsed()
    );
    // …and the process exits well within the drain period.
    loop {
        if let Some(code) = server.try_wait().unwrap() {
            assert!(code.success(), "{code:?}");
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(15),
            "the server still runs {:?} after SIGTERM",
            sent.elapsed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&data);
}

/// The files a deployment is built from (`deploy/yingji.service`, `deploy/Containerfile`,
/// `docs/deploy.md`) stay true to the binary: every `YINGJI_…` variable they name is one yingji
/// reads, and the settings and command of the unit and of the image start a server that answers
/// readiness and logs JSON (with the data directory and address moved to the test's own).
#[test]
fn the_service_unit_and_the_image_start_a_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let (unit, image, guide) = (
        read("deploy/yingji.service"),
        read("deploy/Containerfile"),
        read("docs/deploy.md"),
    );
    // The variables the code reads: clap's `env = "…"` and `env::var("…")` alike.
    let mut source = String::new();
    let mut dirs = vec![root.join("crates")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && p.to_string_lossy().contains("/src/")
            {
                source.push_str(&std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    for text in [&unit, &image, &guide] {
        for (i, _) in text.match_indices("YINGJI_") {
            let name: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name == "YINGJI_" {
                continue; // "`YINGJI_…` variables": the family, not a name
            }
            assert!(
                source.contains(&format!("\"{name}\"")),
                "{name} is named in the deployment files but yingji does not read it"
            );
        }
    }
    // (variables, arguments) of the unit and of the image.
    let unit_env: Vec<(String, String)> = unit
        .lines()
        .filter_map(|l| l.strip_prefix("Environment="))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let unit_args: Vec<String> = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart")
        .split_whitespace()
        .skip(1)
        .map(String::from)
        .collect();
    let joined = image.replace("\\\n", " ");
    let image_env: Vec<(String, String)> = joined
        .lines()
        .filter_map(|l| l.strip_prefix("ENV "))
        .flat_map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let list = |key: &str| -> Vec<String> {
        let l = joined
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key}"));
        serde_json::from_str(l.trim()).unwrap()
    };
    let image_args: Vec<String> = list("ENTRYPOINT ")
        .into_iter()
        .skip(1)
        .chain(list("CMD "))
        .collect();
    assert!(image_env.iter().any(|(k, _)| k == "YINGJI_LISTEN"));
    for (name, env, args) in [
        ("unit", unit_env, unit_args),
        ("image", image_env, image_args),
    ] {
        let data = data_dir(&format!("shipped-{name}"));
        let port = free_port();
        let mut c = Command::new(env!("CARGO_BIN_EXE_yingji"));
        c.args(&args)
            .env_remove("YINGJI_DATA_KEY")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &env {
            c.env(k, v);
        }
        c.env("YINGJI_DATA", &data)
            .env("YINGJI_LISTEN", format!("127.0.0.1:{port}"));
        let mut child = c.spawn().expect("starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut ready = false;
        while Instant::now() < deadline && !ready {
            ready = matches!(http(port, "GET", "/readyz", None), Ok((200, _, _)));
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(ready, "the {name}'s server did not become ready: {log}");
        let first = log.lines().next().unwrap_or("");
        assert!(
            serde_json::from_str::<serde_json::Value>(first).is_ok(),
            "the {name} logs JSON: {first}"
        );
        let _ = std::fs::remove_dir_all(&data);
    }
}
