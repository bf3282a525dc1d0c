//! The `yingji plan …` commands as a user runs them: exit codes, output, JSON shape.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yingji(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn check_of_the_examples_directory_passes() {
    let o = yingji(&["plan", "check", "examples/plans"]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 error(s)"));
}

#[test]
fn check_of_a_faulty_plan_fails_with_located_diagnostics() {
    let o = yingji(&[
        "plan",
        "check",
        "examples/plans/faulty/linxiang-city-overlap.toml",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("error[P0201]"), "{out}");
    assert!(
        out.contains("examples/plans/faulty/linxiang-city-overlap.toml:"),
        "{out}"
    );
    assert!(out.contains('^'), "no caret: {out}");
}

#[test]
fn check_json_lists_diagnostics_with_line_and_column() {
    let o = yingji(&["plan", "check", "--format", "json", "examples/plans/faulty"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["errors"].as_u64().unwrap() > 0);
    let d = &v["diagnostics"][0];
    for k in ["severity", "code", "message", "file", "line", "column"] {
        assert!(!d[k].is_null(), "missing {k} in {d}");
    }
}

#[test]
fn check_of_an_endless_file_stops_at_the_size_limit() {
    // `plan check /dev/zero` used to read until memory ran out (issue 18 item 10).
    let o = yingji(&["plan", "check", "/dev/zero"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.contains("error[P0007]"), "{out}");
    assert!(
        out.contains("too large") && out.contains("1048576"),
        "{out}"
    );
}

#[test]
fn a_gbk_file_is_located_with_a_hint_and_the_other_files_are_still_checked() {
    let dir = std::env::temp_dir().join(format!("yingji-cli-gbk-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Line 2 holds 测试 in GBK (B2 E2 CA D4).
    let mut gbk = b"format = 1\n# ".to_vec();
    gbk.extend_from_slice(&[0xB2, 0xE2, 0xCA, 0xD4]);
    gbk.push(b'\n');
    std::fs::write(dir.join("a-gbk.toml"), gbk).unwrap();
    let faulty =
        std::fs::read(root().join("examples/plans/faulty/linxiang-city-overlap.toml")).unwrap();
    std::fs::write(dir.join("b-overlap.toml"), faulty).unwrap();
    let o = yingji(&["plan", "check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("error[P0008]"), "{out}");
    assert!(out.contains("a-gbk.toml:2:3"), "{out}");
    assert!(out.contains("save the file as UTF-8"), "{out}");
    assert!(
        out.contains("error[P0201]"),
        "the other file's errors are reported: {out}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_of_a_missing_file_is_a_usage_error() {
    let o = yingji(&["plan", "check", "no/such/plan.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/plan.toml"));
}

fn simulate(headcount: &str, at: &str) -> serde_json::Value {
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/linxiang-city.toml",
        "--headcount",
        headcount,
        "--at",
        at,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn simulate_grades_linxiang_as_the_issue_says() {
    assert_eq!(
        simulate("120", "2026-03-02T10:00:00+08:00")["level"]["id"],
        "II"
    );
    assert!(simulate("19", "2026-03-02T10:00:00+08:00")["level"].is_null());
    assert_eq!(
        simulate("500", "2026-03-02T10:00:00+08:00")["level"]["id"],
        "I"
    );
}

#[test]
fn simulate_deadlines_shift_by_day_and_night() {
    let day = simulate("120", "2026-03-02T10:00:00+08:00");
    let night = simulate("120", "2026-03-02T22:00:00+08:00");
    let order = |v: &serde_json::Value| {
        v["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["group"] == "order")
            .unwrap()["due_at"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(order(&day), "2026-03-02T10:30:00+08:00");
    assert_eq!(order(&night), "2026-03-02T22:45:00+08:00");
}

#[test]
fn simulate_refuses_an_unknown_venue_or_a_bad_time() {
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/linxiang-city.toml",
        "--headcount",
        "30",
        "--behaviour",
        "dancing",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dancing"));
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/linxiang-city.toml",
        "--headcount",
        "30",
        "--at",
        "tomorrow",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn simulate_of_a_faulty_plan_shows_its_errors() {
    let o = yingji(&[
        "plan",
        "simulate",
        "examples/plans/faulty/linxiang-city-overlap.toml",
        "--headcount",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("P0201"));
}

#[test]
fn diff_shows_a_changed_limit_and_commander() {
    let dir = std::env::temp_dir().join(format!("yingji-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = root().join("examples/plans/linxiang-city.toml");
    let text = std::fs::read_to_string(&old).unwrap();
    let new_text = text
        .replace(
            "title = \"落实接访场地\"\nwithin = \"1h\"",
            "title = \"落实接访场地\"\nwithin = \"45m\"",
        )
        .replace(
            "commander = [\"party-deputy-secretary\"]",
            "commander = [\"deputy-secretary\"]",
        );
    assert_ne!(text, new_text);
    let new = dir.join("linxiang-revised.toml");
    std::fs::write(&new, new_text).unwrap();
    let o = yingji(&[
        "plan",
        "diff",
        old.to_str().unwrap(),
        new.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["scope"] == "level I"
            && c["what"] == "commander"
            && c["old"] == "市委副书记"
            && c["new"] == "市委分管副书记"),
        "{changes:#?}"
    );
    // The logistics checklist is called from level III up, so the limit changes in III, II, I.
    let limit: Vec<&serde_json::Value> = changes
        .iter()
        .filter(|c| c["what"].as_str().unwrap().contains("落实接访场地"))
        .collect();
    assert_eq!(limit.len(), 3, "{limit:#?}");
    assert!(limit.iter().all(|c| c["old"] == "1h" && c["new"] == "45m"));
    let same = yingji(&["plan", "diff", old.to_str().unwrap(), old.to_str().unwrap()]);
    assert_eq!(stdout(&same), "no changes\n");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn serve_refuses_a_bad_case_configuration_or_calendar() {
    let dir = std::env::temp_dir().join(format!("yingji-cli-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cal")).unwrap();
    let cfg = dir.join("cases.toml");
    std::fs::write(&cfg, "[defaults]\nclock = { days = 0 }\n").unwrap();
    let data = dir.join("data");
    let o = yingji(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
        "--case-config",
        cfg.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a clock must be at least one day"), "{err}");
    std::fs::write(
        dir.join("cal/cn-2027.toml"),
        "name = 'x'\nyears = [2027]\nholidays = [{ name = '春节', from = 2027-02-10, to = 2027-02-05 }]\n",
    )
    .unwrap();
    let o = yingji(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
        "--calendars",
        dir.join("cal").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ends before it starts"), "{err}");
    // Document templates: every problem of every file, with its place.
    let tpl = dir.join("templates");
    std::fs::create_dir_all(tpl.join("临溪市")).unwrap();
    std::fs::write(
        tpl.join("review.toml"),
        "title = \"评估报告\"\n\n[[section]]\nbody = \"{summry}\"\n",
    )
    .unwrap();
    std::fs::write(tpl.join("临溪市/case_reply.toml"), "titel = \"意见书\"\n").unwrap();
    let o = yingji(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data",
        data.to_str().unwrap(),
        "--templates",
        tpl.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("review.toml:4:9") && err.contains("summry"),
        "{err}"
    );
    assert!(
        err.contains("case_reply.toml:1:1") && err.contains("titel"),
        "{err}"
    );
    // An object store for attachments: what is missing or wrong, named before serving.
    let data_s = data.to_str().unwrap();
    for (extra, want) in [
        (vec!["--attachment-store", "s3"], "--s3-endpoint"),
        (
            vec![
                "--attachment-store",
                "s3",
                "--s3-endpoint",
                "ftp://store",
                "--s3-bucket",
                "files",
            ],
            "must be http(s)://host[:port]",
        ),
        (
            vec![
                "--attachment-store",
                "s3",
                "--s3-endpoint",
                "http://127.0.0.1:9",
                "--s3-bucket",
                "Bad_Name",
            ],
            "is not a bucket name",
        ),
        (
            vec![
                "--attachment-store",
                "s3",
                "--s3-endpoint",
                "http://127.0.0.1:9",
                "--s3-bucket",
                "files",
            ],
            "YINGJI_S3_ACCESS_KEY",
        ),
    ] {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--data", data_s];
        args.extend(extra);
        let o = yingji(&args);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{want}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--calendars DIR` adds its years to the built-in ones and replaces a built-in year it gives;
/// `yingji calendar check` shows the result as `serve` loads it.
#[test]
fn calendar_files_are_added_to_the_built_in_years() {
    let dir = std::env::temp_dir().join(format!("yingji-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let check = || {
        let o = yingji(&["calendar", "check", "--calendars", dir.to_str().unwrap()]);
        (
            o.status.code(),
            stdout(&o),
            String::from_utf8_lossy(&o.stderr).to_string(),
        )
    };
    // Without files: the built-in years.
    let o = yingji(&["calendar", "check"]);
    assert!(o.status.success());
    assert!(stdout(&o).starts_with("2025\tbuilt-in\t"), "{}", stdout(&o));
    // A 2027 file is added; the built-in 2025 and 2026 stay.
    std::fs::write(
        dir.join("cn-2027.toml"),
        "name = '2027'\nyears = [2027]\nholidays = [{ name = '元旦', from = 2027-01-01, to = 2027-01-03 }]\n",
    )
    .unwrap();
    let (code, out, err) = check();
    assert_eq!(code, Some(0), "{err}");
    let years: Vec<&str> = out.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert_eq!(years[..3], ["2025", "2026", "2027"], "{out}");
    assert!(
        out.contains("2026\tbuilt-in\t中国大陆法定节假日（2026）\t33 days off"),
        "{out}"
    );
    assert!(
        out.contains("cn-2027.toml (added)\t2027\t3 days off"),
        "{out}"
    );
    assert!(err.contains("added [2027], replaced []"), "{err}");
    // A 2026 file replaces the built-in 2026.
    std::fs::write(
        dir.join("cn-2026.toml"),
        "name = 'local 2026'\nyears = [2026]\nholidays = [{ name = '元旦', from = 2026-01-01, to = 2026-01-01 }]\n",
    )
    .unwrap();
    let (code, out, err) = check();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("cn-2026.toml (replaces the built-in year)\tlocal 2026\t1 days off"),
        "{out}"
    );
    assert!(err.contains("built-in years [2025]"), "{err}");
    // Two files for one year, or a bad file, are refused with the file's name.
    std::fs::write(
        dir.join("more-2027.toml"),
        "name = 'again'\nyears = [2027]\n",
    )
    .unwrap();
    let (code, _, err) = check();
    assert_eq!(code, Some(2));
    assert!(err.contains("both give the year 2027"), "{err}");
    std::fs::write(
        dir.join("more-2027.toml"),
        "name = 'x'\nyears = [2028]\nweekend = ['sunday']\n",
    )
    .unwrap();
    let (code, _, err) = check();
    assert_eq!(code, Some(2));
    assert!(err.contains("weekly rest days"), "{err}");
    std::fs::write(
        dir.join("more-2027.toml"),
        "name = 'x'\nyears = [2028]\nholidays = 3\n",
    )
    .unwrap();
    let (code, _, err) = check();
    assert_eq!(code, Some(2));
    assert!(err.contains("more-2027.toml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One JSON request to a running server with a bearer token: (status, body).
fn call(port: u16, token: &str, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    let body = out.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// `yingji purge` erases the sealed personal data of cases no longer open past the retention
/// period, and nothing else: statistics, events and the hash chains stay.
#[test]
fn purge_erases_petitioners_personal_data_and_keeps_the_statistics() {
    let dir = std::env::temp_dir().join(format!("yingji-purge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let port = free_port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "server did not come up"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (_, js) = call(
        port,
        "demo-province-admin",
        "GET",
        "/api/v1/jurisdictions",
        "",
    );
    let county = js["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["name"] == "临溪市")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A case with a phone, an ID number and an address, taken to a written reply.
    let (phone, id_number, address) = (
        "13812340000",
        "330100199001011234",
        "临溪市青石镇枫林村三组12号",
    );
    let body = serde_json::json!({
        "jurisdiction_id": county, "channel": "letter",
        "petitioners": [{"name": "测试来信人", "contact": phone, "id_number": id_number, "address": address}],
        "title": "测试：反映路灯不亮", "grievance": "要求修复路灯",
    });
    let (s, c) = call(
        port,
        "demo-petition-clerk",
        "POST",
        "/api/v1/cases",
        &body.to_string(),
    );
    assert_eq!(s, 201, "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date()
        .to_string();
    for (who, action, b) in [
        (
            "demo-petition-clerk",
            "propose",
            serde_json::json!({"text": "拟交市住建局办理"}),
        ),
        ("demo-commander", "approve", serde_json::json!({})),
        ("demo-secretary-general", "approve", serde_json::json!({})),
        (
            "demo-petition-clerk",
            "route",
            serde_json::json!({"kind": "assign", "target": "临溪市住建局"}),
        ),
        (
            "demo-petition-clerk",
            "reply",
            serde_json::json!({"date": today, "channel": "书面邮寄", "summary": "已修复"}),
        ),
    ] {
        let (s, v) = call(
            port,
            who,
            "POST",
            &format!("/api/v1/cases/{cid}/{action}"),
            &b.to_string(),
        );
        assert_eq!(s, 200, "{action}: {v}");
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let snapshot = || {
        rt.block_on(async {
            let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
            let stats: Vec<(String, String, String, i64, i64, i64)> = sqlx::query_as(
                "SELECT jurisdiction_path, quarter, channel, received, replied, on_time FROM case_stats ORDER BY 1, 2, 3",
            )
            .fetch_all(store.pool())
            .await
            .unwrap();
            let pet: (Option<String>, Option<String>, Option<String>, Option<String>, String) = sqlx::query_as(
                "SELECT petitioner_contact, petitioner_address, petitioner_id_number, purged_at, petitioner_name FROM case_petitioners WHERE case_id = ?",
            )
            .bind(&cid)
            .fetch_one(store.pool())
            .await
            .unwrap();
            let others: (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM case_petitioners WHERE case_id <> ? AND purged_at IS NOT NULL",
            )
            .bind(&cid)
            .fetch_one(store.pool())
            .await
            .unwrap();
            let purges: (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM events WHERE kind = 'personal_data_purged'")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            (stats, pet, others.0, purges.0)
        })
    };
    let (stats0, pet0, _, _) = snapshot();
    assert!(
        pet0.0.as_deref().unwrap().starts_with("subject1:"),
        "sealed at rest with the case's key"
    );
    assert!(pet0.2.as_deref().unwrap().starts_with("subject1:"));
    // The case's key, wrapped with the data key.
    let wrapped = rt.block_on(async {
        let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
        let cid: uuid::Uuid = cid.parse().unwrap();
        store
            .subject_key("case", cid)
            .await
            .unwrap()
            .expect("the case has a key")
            .wrapped_key
    });
    let d = data.to_str().unwrap();
    let before = dir.join("before.jsonl");
    let o = yingji(&["backup", "--data", d, "--out", before.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Replied today: not yet past a 30-day retention.
    let o = yingji(&["purge", "--data", d, "--retention-days", "30"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).contains("0 petitioner(s) in 0 case(s)"),
        "{}",
        stdout(&o)
    );
    // A dry run with retention 0 counts it and changes nothing.
    let o = yingji(&["purge", "--data", d, "--retention-days", "0", "--dry-run"]);
    assert!(
        stdout(&o).contains("would purge the personal data of 1 petitioner(s) in 1 case(s)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(snapshot().1, pet0);
    let o = yingji(&["purge", "--data", d, "--retention-days", "0"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).contains("purged the personal data of 1 petitioner(s) in 1 case(s)"),
        "{}",
        stdout(&o)
    );
    let (stats1, pet1, others, purges) = snapshot();
    assert_eq!(
        (pet1.0, pet1.1, pet1.2),
        (None, None, None),
        "the sealed values are gone"
    );
    assert!(pet1.3.is_some(), "marked purged");
    assert_eq!(pet1.4, "测试来信人", "the name stays, as in the event log");
    assert_eq!(others, 0, "the demo's open cases keep their data");
    assert_eq!(stats1, stats0, "statistics unchanged");
    assert_eq!(purges, 1, "one purge event for the run");
    // A second run finds nothing more and records nothing.
    let o = yingji(&["purge", "--data", d, "--retention-days", "0"]);
    assert!(
        stdout(&o).contains("0 petitioner(s) in 0 case(s)"),
        "{}",
        stdout(&o)
    );
    assert_eq!(snapshot().3, 1);
    let v = yingji(&["audit", "verify", "--data", d]);
    assert!(v.status.success(), "{}", stdout(&v));
    // Nothing readable is left: not the values in clear, not the case's wrapped key (without
    // which its sealed values and the masks in its registration event cannot be opened) in the
    // database file, its WAL and shared memory, or a backup taken after the purge. Any value
    // still sealed with the data key alone does not open to an erased value.
    let after = dir.join("after.jsonl");
    let o = yingji(&["backup", "--data", d, "--out", after.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let sealer = yingji_app::sealer::Sealer::load(None, Some(&data)).unwrap();
    let db = data.join("yingji.db");
    let holds = |bytes: &[u8], s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    let cid_u: uuid::Uuid = cid.parse().unwrap();
    let mut searched = 0;
    for f in [
        db.clone(),
        data.join("yingji.db-wal"),
        data.join("yingji.db-shm"),
        after.clone(),
    ] {
        let Ok(bytes) = std::fs::read(&f) else {
            continue;
        };
        searched += 1;
        for secret in [phone, id_number, address, wrapped.as_str()] {
            assert!(!holds(&bytes, secret), "{} holds {secret}", f.display());
        }
        let text = String::from_utf8_lossy(&bytes);
        for (i, _) in text.match_indices("sealed1:") {
            let token: String = text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == ':')
                .collect();
            for field in ["contact", "address", "id_number"] {
                let aad = yingji_app::cases::petitioner_aad(cid_u, 0, field);
                assert!(sealer.open(&token, &aad).is_err(), "{token} opens");
            }
        }
    }
    assert!(searched >= 2, "the database and the backup were searched");
    // A backup taken before the purge still holds the wrapped key: it must expire under the
    // retention policy (docs/security.md).
    assert!(holds(&std::fs::read(&before).unwrap(), &wrapped));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `yingji rekey` with a key ring that lacks the key a phone was sealed with says which key is
/// missing (and which keys it has) and exits non-zero, changing nothing; with the old key added
/// before the new one it re-seals, and a second run has nothing left to do.
#[test]
fn rekey_names_a_missing_key() {
    use yingji_app::directory::{CreatePerson, NewPersonRequest};
    use yingji_app::sealer::Sealer;

    let dir = std::env::temp_dir().join(format!("yingji-rekey-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    let (old, new) = ("11".repeat(32), "22".repeat(32));
    let old_id = Sealer::from_hex_keys([old.as_str()])
        .unwrap()
        .current_key_id()
        .to_string();
    let new_id = Sealer::from_hex_keys([new.as_str()])
        .unwrap()
        .current_key_id()
        .to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let console_secret = rt.block_on(async {
        let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
        let app = yingji_server::AppState::new(
            store.clone(),
            std::sync::Arc::new(yingji_domain::clock::SystemClock),
        )
        .with_sealer(Sealer::from_hex_keys([old.as_str()]).unwrap());
        // The console's key, made by a first `serve` and sealed with the old key.
        let console_secret = yingji_app::secrets::deployment_secret(
            &store,
            &app.sealer,
            yingji_app::secrets::CONSOLE,
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
        yingji_server::demo::bootstrap(&app, "根辖区", &"t".repeat(32))
            .await
            .unwrap();
        let root = store.list_jurisdictions("/").await.unwrap()[0].id;
        let req = NewPersonRequest {
            jurisdiction_id: root,
            name: "测试联系人".into(),
            phone: Some("13900001234".into()),
            email: None,
            token: None,
        };
        app.execute(&yingji_app::Actor::system(), None, &CreatePerson::from(req))
            .await
            .unwrap();
        // A subject key, wrapped with the old key.
        let mut ws = yingji_store::WriteSet::default();
        yingji_app::subjects::SubjectKey::create(
            &mut ws,
            &app.sealer,
            "case",
            uuid::Uuid::now_v7(),
            jiff::Timestamp::now(),
        );
        app.commit(ws).await.unwrap();
        console_secret
    });
    let rekey = |keys: &str| {
        Command::new(env!("CARGO_BIN_EXE_yingji"))
            .args(["rekey", "--data"])
            .arg(&data)
            .env("YINGJI_DATA_KEY", keys)
            .env("NO_COLOR", "1")
            .output()
            .expect("runs")
    };
    let o = rekey(&new);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("data_key_missing"), "{err}");
    assert!(
        err.contains(&format!(
            "sealed with data key {old_id}, which is not in the key ring"
        )),
        "{err}"
    );
    assert!(err.contains(&new_id), "names the keys it has: {err}");
    assert!(!err.contains("has been logged"), "{err}");
    let o = rekey(&format!("{old},{new}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).contains(&format!(
            "re-sealed 3 value(s) with key {new_id} (1 phone(s) of people, 1 subject key(s) re-wrapped"
        )) && stdout(&o).contains("1 deployment secret(s)"),
        "{}",
        stdout(&o)
    );
    // The stream heads written with the old key are re-signed with the new one…
    assert!(
        stdout(&o).contains("re-signed ") && !stdout(&o).contains("re-signed 0 "),
        "{}",
        stdout(&o)
    );
    let o = rekey(&new);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        stdout(&o).contains("re-sealed 0 value(s)") && stdout(&o).contains("re-signed 0 "),
        "{}",
        stdout(&o)
    );
    // …so the record verifies with the new key alone.
    let o = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["audit", "verify", "--data"])
        .arg(&data)
        .env("YINGJI_DATA_KEY", &new)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("every signature valid"),
        "{}",
        stdout(&o)
    );
    // The console's key opens with the new key alone and is the same key: forms signed before
    // the rotation still pass.
    let again = rt.block_on(async {
        let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
        yingji_app::secrets::deployment_secret(
            &store,
            &Sealer::from_hex_keys([new.as_str()]).unwrap(),
            yingji_app::secrets::CONSOLE,
            jiff::Timestamp::now(),
        )
        .await
        .unwrap()
    });
    assert_eq!(again, console_secret);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Long operator commands report how far they are. With `YINGJI_PROGRESS=1` (no terminal
/// here) every stage is a `progress:` line on stderr, ending at the whole (the same count the
/// command prints on stdout); without it, a pipe gets none, so scripts read what they did.
#[test]
fn long_commands_show_progress() {
    let dir = std::env::temp_dir().join(format!("yingji-progress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (data, copy) = (dir.join("data"), dir.join("copy"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = yingji_store::Store::open_sqlite(&data).await.unwrap();
        let app = yingji_server::AppState::new(
            store,
            std::sync::Arc::new(yingji_domain::clock::SystemClock),
        )
        .with_sealer(yingji_app::sealer::Sealer::load(None, Some(&data)).unwrap());
        yingji_app::demo::load_demo(&app).await.unwrap();
    });
    let run = |args: &[&str], progress: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_yingji"));
        c.args(args).env("NO_COLOR", "1").env("RUST_LOG", "warn");
        match progress {
            Some(p) => c.env("YINGJI_PROGRESS", p),
            None => c.env_remove("YINGJI_PROGRESS"),
        };
        let o = c.output().expect("runs");
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        (stdout(&o), String::from_utf8_lossy(&o.stderr).to_string())
    };
    let (d, out) = (data.to_str().unwrap(), dir.join("b.jsonl"));
    let o = out.to_str().unwrap();
    let (said, shown) = run(&["backup", "--data", d, "--out", o], Some("1"));
    // "…: 1234 rows in 40 tables"
    let rows = said
        .split(": ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("{said}"));
    assert!(rows > 100, "{said}");
    let whole = rows
        .to_string()
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(",");
    assert!(
        shown.contains("progress: backup: opening the database")
            && shown.contains(&format!("progress: backup: {whole} / {whole} rows (100 %)")),
        "{shown}"
    );
    // Restore into another database counts the file's bytes to the end, then verifies.
    let key = data.join("data.key");
    let (_, shown) = run(
        &[
            "restore",
            "--data",
            copy.to_str().unwrap(),
            "--data-key-file",
            key.to_str().unwrap(),
            o,
        ],
        Some("1"),
    );
    assert!(
        shown.contains("progress: restore: ") && shown.contains("bytes (100 %)"),
        "{shown}"
    );
    assert!(
        shown.contains("progress: audit verify: ") && shown.contains("events (100 %)"),
        "{shown}"
    );
    // Off on a pipe unless asked for.
    let (said, shown) = run(&["audit", "verify", "--data", d], None);
    assert!(said.contains("every hash chain intact"), "{said}");
    assert!(!shown.contains("progress:"), "{shown}");
    let (_, shown) = run(&["audit", "verify", "--data", d], Some("0"));
    assert!(!shown.contains("progress:"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}
