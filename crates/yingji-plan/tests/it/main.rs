//! Integration tests of the plan crate: the shipped examples, the faulty plans, malformed input,
//! classification properties and simulation.

mod checks;
mod drill;
mod escalation;
mod examples;
mod malformed;
mod properties;
mod scale;
mod scope;
mod simulate;

use std::path::{Path, PathBuf};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

pub fn load_example(name: &str) -> yingji_plan::Plan {
    let path = repo_root().join("examples/plans").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let c = yingji_plan::load(&text);
    assert!(!c.has_errors(), "{name}: {:#?}", c.diagnostics);
    c.plan.unwrap()
}
