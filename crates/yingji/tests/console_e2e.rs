//! The web console end to end, in a real browser: starts `yingji serve` (SQLite, demo data) on a
//! free port with a temporary data directory and runs each `e2e/*.test.mjs` scenario against its own
//! server (headless Debian chromium driven by playwright-core; see e2e/; `E2E_ONLY=name` runs one).
//! Screenshots of every page at
//! desktop and phone width land in e2e/screenshots/.
//!
//! Needs node, npm and /usr/bin/chromium (`.ci/run` installs them); fails with a clear message
//! when they are missing. Installs e2e/node_modules with `npm ci` when absent.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Server(Child, PathBuf);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn have(cmd: &str, arg: &str) -> bool {
    Command::new(cmd)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn console_in_headless_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the console E2E test needs Debian's chromium at {chromium}: `apt-get install -y chromium fonts-wqy-microhei` (or set CHROMIUM)"
    );
    assert!(
        have("node", "--version") && have("npm", "--version"),
        "the console E2E test needs node and npm: `apt-get install -y nodejs npm`"
    );
    let e2e = root().join("e2e");
    if !e2e.join("node_modules/playwright-core").exists() {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&e2e)
            .status()
            .expect("npm runs");
        assert!(st.success(), "`npm ci` in e2e/ failed");
    }

    // Every scenario file, each against its own fresh server with the demo data.
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&e2e)
        .expect("e2e/ is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".test.mjs"))
        })
        .collect();
    scenarios.sort();
    assert!(!scenarios.is_empty(), "no e2e/*.test.mjs scenario found");
    let only = std::env::var("E2E_ONLY").ok();
    for scenario in &scenarios {
        let name = scenario.file_name().unwrap().to_string_lossy().to_string();
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        run_scenario(&chromium, &e2e, &name);
    }
}

/// Starts `yingji serve` with the demo on a free port and runs one scenario file against it;
/// the scenario must exit 0 and print `e2e: ok`.
fn run_scenario(chromium: &str, e2e: &Path, name: &str) {
    let port = free_port();
    let data = std::env::temp_dir().join(format!("yingji-e2e-{}-{port}", std::process::id()));
    let child = Command::new(env!("CARGO_BIN_EXE_yingji"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("yingji serve starts");
    let _server = Server(child, data);
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "yingji serve did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = Command::new("node")
        .arg(name)
        .current_dir(e2e)
        .env("BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("CHROMIUM", chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("e2e: ok"),
        "the console E2E scenario {name} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
}
