//! A real reader for the generated files: LibreOffice headless converts a .docx to text and
//! every sheet of an .xlsx to CSV, and the tests look for what a person would read. The test
//! set-up (scripts/test.sh) installs LibreOffice; without it a test is skipped with a note,
//! except under CI, where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SOFFICE: &str = "/usr/bin/soffice";

/// Whether LibreOffice is here (under CI its absence is a failure).
pub fn available() -> bool {
    if Path::new(SOFFICE).exists() {
        return true;
    }
    assert!(
        std::env::var("CI").is_err(),
        "{SOFFICE} is missing: scripts/test.sh installs LibreOffice"
    );
    eprintln!("skipped: {SOFFICE} is not installed (scripts/test.sh installs it)");
    false
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Converts `bytes` (a file named `name`) and answers every file LibreOffice wrote, by name.
fn convert(name: &str, bytes: &[u8], to: &str) -> BTreeMap<String, String> {
    let dir = std::env::temp_dir().join(format!("yingji-reader-{}", uuid::Uuid::new_v4()));
    let scratch = Scratch(dir.clone());
    let (input, out, profile) = (dir.join("in"), dir.join("out"), dir.join("profile"));
    for d in [&input, &out, &profile] {
        std::fs::create_dir_all(d).unwrap();
    }
    let file = input.join(name);
    std::fs::write(&file, bytes).unwrap();
    let mut child = Command::new(SOFFICE)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--norestore", "--convert-to", to, "--outdir"])
        .arg(&out)
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start soffice");
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "soffice did not convert {name}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "soffice: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(&out).unwrap() {
        let p = e.unwrap().path();
        let text = String::from_utf8(std::fs::read(&p).unwrap()).expect("UTF-8 output");
        files.insert(
            p.file_name().unwrap().to_string_lossy().to_string(),
            text.trim_start_matches('\u{feff}').to_string(),
        );
    }
    drop(scratch);
    assert!(!files.is_empty(), "soffice wrote nothing for {name}");
    files
}

/// The text of a .docx as LibreOffice reads it.
pub fn docx_text(bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"PK"), "not a zip package");
    convert("document.docx", bytes, "txt:Text (encoded):UTF8")
        .into_values()
        .next()
        .unwrap()
}

/// Every sheet of an .xlsx as CSV rows (LibreOffice quotes text cells only, so a number that
/// comes back unquoted was stored as a number), by sheet name.
pub fn xlsx_sheets(bytes: &[u8]) -> BTreeMap<String, Vec<Vec<String>>> {
    assert!(bytes.starts_with(b"PK"), "not a zip package");
    // Field separator, text delimiter, UTF-8, first line, …, and -1: every sheet to a file
    // of its own (`book-<sheet>.csv`).
    let files = convert(
        "book.xlsx",
        bytes,
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,false,false,false,-1",
    );
    files
        .into_iter()
        .map(|(name, text)| {
            let sheet = name
                .strip_prefix("book-")
                .unwrap_or(&name)
                .trim_end_matches(".csv")
                .to_string();
            let rows = text
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| l.split(',').map(str::to_string).collect())
                .collect();
            (sheet, rows)
        })
        .collect()
}
