//! The layers hold: SQL lives only in the store; only the application commits writes (through
//! `App::commit`, which publishes them to live pages); nobody outside the store builds raw
//! statements or matches constraint names. (Issue 16: "No SQL statement in the web crate, no
//! string-matched constraint names".)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

/// (file, line number, line) for every line of the sources under `dirs` matching `hit`.
fn find(dirs: &[&str], hit: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Vec::new();
    for d in dirs {
        for f in sources(&root().join(d)) {
            // This file names what it looks for.
            if f.ends_with("tests/layers.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                if hit(line) {
                    found.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
                }
            }
        }
    }
    found
}

/// The crates outside the store (their sources, tests and benchmarks).
const OUTSIDE_STORE: &[&str] = &[
    "crates/yingji-server",
    "crates/yingji-app",
    "crates/yingji",
    "crates/yingji-notify",
    "crates/yingji-domain",
    "crates/yingji-plan",
];

#[test]
fn no_sql_outside_the_store() {
    let sql = |l: &str| {
        let u = l.to_ascii_uppercase();
        ["INSERT INTO ", "DELETE FROM ", "SELECT ", " SET "]
            .iter()
            .any(|k| u.contains(k))
            && (u.contains("INSERT INTO ")
                || u.contains("DELETE FROM ")
                || (u.contains("SELECT ") && u.contains(" FROM "))
                || (u.contains("UPDATE ") && u.contains(" SET ")))
    };
    // The layer test itself names the keywords; the tests of other crates may read the
    // database directly to check what was stored (a read, through their own connection).
    let found: Vec<String> = find(
        &[
            "crates/yingji-server/src",
            "crates/yingji-app/src",
            "crates/yingji/src",
            "crates/yingji-notify/src",
        ],
        sql,
    );
    assert!(
        found.is_empty(),
        "SQL outside the store:\n{}",
        found.join("\n")
    );
}

#[test]
fn nothing_outside_the_store_builds_raw_statements() {
    let found = find(OUTSIDE_STORE, |l| {
        l.contains("Stmt::") || l.contains("Row::Sql") || l.contains("features = [\"testing\"]")
    });
    assert!(
        found.is_empty(),
        "raw statements outside the store:\n{}",
        found.join("\n")
    );
    // Nor does a manifest outside the store turn on the store's `testing` feature.
    for c in OUTSIDE_STORE {
        let m = std::fs::read_to_string(root().join(c).join("Cargo.toml")).unwrap();
        assert!(
            !m.contains("\"testing\""),
            "{c}/Cargo.toml enables the store's testing feature"
        );
    }
}

#[test]
fn only_the_application_commits() {
    let found = find(
        &[
            "crates/yingji-server/src",
            "crates/yingji/src",
            "crates/yingji-notify/src",
            "crates/yingji-app/src",
        ],
        |l| l.contains("store.commit(") || l.contains(".store.commit("),
    );
    // `App::commit` is the one caller: it publishes what it commits.
    let allowed: Vec<&String> = found
        .iter()
        .filter(|f| !f.contains("crates/yingji-app/src/lib.rs"))
        .collect();
    assert!(
        allowed.is_empty(),
        "writes that bypass App::commit (and so the live bus):\n{}",
        allowed
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn no_constraint_is_matched_by_name() {
    let found = find(OUTSIDE_STORE, |l| {
        l.contains("constraint ==")
            || l.contains(".constraint()")
            || l.contains("constraint.contains")
    });
    assert!(
        found.is_empty(),
        "constraint names matched outside the store:\n{}",
        found.join("\n")
    );
}
