//! yingji-plan: plan files (TOML) read into checked plans, with compiler-style diagnostics;
//! level classification, dry-run simulation and revision diffs. Pure: no I/O beyond what the
//! caller hands in, no async, no database.

pub mod check;
pub mod classify;
pub mod diag;
pub mod diff;
pub mod drill;
pub mod model;
mod parse;
pub mod reader;
pub mod response;
pub mod scope;
pub mod time;

pub use classify::{Input, NoLevel, classify};
pub use diag::{Code, Diagnostic, Severity};
pub use model::Plan;
pub use response::{Simulation, simulate, simulate_with};

/// One plan file, read and checked on its own.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The plan, when the file could be read into one (it may still have errors).
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }

    /// The plan, only when it has no errors: what the rest of yingji may run.
    pub fn usable(&self) -> Option<&Plan> {
        if self.has_errors() {
            None
        } else {
            self.plan.as_ref()
        }
    }
}

/// The largest plan file read: 1 MiB. A larger file (or upload) is refused with P0007 instead
/// of being read; the largest real plan is far below (the examples are 10–40 KiB).
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;

fn too_large(len: Option<usize>) -> Diagnostic {
    let size = match len {
        Some(n) => format!("{n} bytes"),
        None => format!("more than {MAX_SOURCE_BYTES} bytes"),
    };
    Diagnostic::new(
        Code::TooLarge,
        None,
        format!("file too large: {size} (limit {MAX_SOURCE_BYTES} bytes, 1 MiB); not read"),
    )
    .help("a plan file is at most 1 MiB; split it, or check that this is the plan file (预案文件不得超过 1 MiB)")
}

/// Reads and checks one plan file's text.
pub fn load(src: &str) -> Checked {
    if src.len() > MAX_SOURCE_BYTES {
        return Checked {
            plan: None,
            diagnostics: vec![too_large(Some(src.len()))],
        };
    }
    let (plan, mut diagnostics) = parse::read(src);
    // After a syntax error the file is cut short: references to what follows the cut would all
    // look undefined, so only the local (structural) diagnostics are kept.
    let syntax_failed = diagnostics.iter().any(|d| d.code == Code::Syntax);
    if let Some(p) = plan.as_ref().filter(|_| !syntax_failed) {
        let structural = diagnostics
            .iter()
            .any(|d| d.code.leaves_structure_in_doubt());
        let mut semantic = Vec::new();
        check::check(p, &mut semantic);
        if structural {
            // Coverage and reachability on a half-read plan would mostly repeat the structural
            // errors in other words; keep the reference and value checks.
            semantic.retain(|d| {
                !matches!(
                    d.code,
                    Code::OverlappingRanges
                        | Code::CoverageGap
                        | Code::UnreachableLevel
                        | Code::UnusedPost
                        | Code::GroupNeverCalled
                        | Code::NoCommander
                )
            });
        }
        diagnostics.extend(semantic);
    }
    diagnostics.sort_by_key(|d| (d.span.as_ref().map_or(0, |s| s.start), d.code));
    diagnostics.dedup();
    Checked { plan, diagnostics }
}

/// A named source, for checking several files together.
pub struct Source {
    pub file: String,
    /// The text; for a file refused before reading (see [`Source::from_bytes`]) the part that
    /// could be decoded, for showing the refusal's position.
    pub text: String,
    refused: Option<Diagnostic>,
}

impl Source {
    pub fn new(file: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            file: file.into(),
            text: text.into(),
            refused: None,
        }
    }

    /// A file's bytes as read with [`read_limited`]: refused with P0007 when they exceed
    /// [`MAX_SOURCE_BYTES`], with P0008 at the first byte that is not UTF-8 (then the text
    /// holds the file decoded with replacement characters, so that the position can be shown).
    pub fn from_bytes(file: impl Into<String>, bytes: Vec<u8>) -> Self {
        let file = file.into();
        if bytes.len() > MAX_SOURCE_BYTES {
            return Source {
                file,
                text: String::new(),
                refused: Some(too_large(None)),
            };
        }
        match String::from_utf8(bytes) {
            Ok(text) => Source::new(file, text),
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
                // The lossy text equals the bytes up to `at`; there it holds U+FFFD (3 bytes).
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                let d = Diagnostic::new(
                    Code::NotUtf8,
                    at..end,
                    "the file is not UTF-8 text: invalid byte here (文件不是 UTF-8 编码)",
                )
                .label("first byte that is not UTF-8")
                .help("save the file as UTF-8 (e.g. it may be GBK: `iconv -f GBK -t UTF-8`) / 请将文件另存为 UTF-8 编码");
                Source {
                    file,
                    text,
                    refused: Some(d),
                }
            }
        }
    }

    /// Whether the file was refused before reading (too large, not UTF-8).
    pub fn refused(&self) -> bool {
        self.refused.is_some()
    }
}

/// Reads at most [`MAX_SOURCE_BYTES`] + 1 bytes, so that an endless or huge input (`/dev/zero`)
/// costs no more than the limit; [`Source::from_bytes`] then refuses what is over it.
pub fn read_limited(r: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    r.take(MAX_SOURCE_BYTES as u64 + 1).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Checks one source, as [`load`] does for text, or answers its refusal.
pub fn load_source(source: &Source) -> Checked {
    match &source.refused {
        Some(d) => Checked {
            plan: None,
            diagnostics: vec![d.clone()],
        },
        None => load(&source.text),
    }
}

/// Checks several files together: each on its own, then the links between them (parent plans,
/// duplicate plan ids). Diagnostics are returned per file, in input order. A refused file
/// (too large, not UTF-8) gets its refusal and takes no part in the links; the others are
/// still checked.
pub fn load_set(sources: &[Source]) -> Vec<Checked> {
    let mut out: Vec<Checked> = sources.iter().map(load_source).collect();
    let loaded: Vec<(usize, check::Loaded<'_>)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.plan.as_ref().map(|p| {
                (
                    i,
                    check::Loaded {
                        file: &sources[i].file,
                        plan: p,
                    },
                )
            })
        })
        .collect();
    let just: Vec<check::Loaded<'_>> = loaded
        .iter()
        .map(|(_, l)| check::Loaded {
            file: l.file,
            plan: l.plan,
        })
        .collect();
    let extra: Vec<(usize, Diagnostic)> = check::check_set(&just)
        .into_iter()
        .map(|(k, d)| (loaded[k].0, d))
        .collect();
    for (i, d) in extra {
        out[i].diagnostics.push(d);
    }
    for c in &mut out {
        c.diagnostics
            .sort_by_key(|d| (d.span.as_ref().map_or(0, |s| s.start), d.code));
    }
    out
}

/// An order in which to load plan texts one by one so that each parent (`[meta] parent`, when
/// it is among them) comes before its children; otherwise the given order. Used where plans are
/// stored one at a time and each is checked against those already stored (`serve --plans`).
/// Texts that do not read, and cycles, keep their place after the rest.
pub fn parents_first(texts: &[&str]) -> Vec<usize> {
    let ids: Vec<Option<(String, Option<String>)>> = texts
        .iter()
        .map(|t| {
            load(t).plan.map(|p| {
                (
                    p.id().to_string(),
                    p.meta.parent.as_ref().map(|x| x.value.clone()),
                )
            })
        })
        .collect();
    let mut order: Vec<usize> = Vec::with_capacity(texts.len());
    while order.len() < texts.len() {
        let before = order.len();
        for i in 0..texts.len() {
            if order.contains(&i) {
                continue;
            }
            let waits = match &ids[i] {
                Some((_, Some(parent))) => ids.iter().enumerate().any(|(k, x)| {
                    k != i && !order.contains(&k) && x.as_ref().is_some_and(|(id, _)| id == parent)
                }),
                _ => false,
            };
            if !waits {
                order.push(i);
            }
        }
        if order.len() == before {
            let rest: Vec<usize> = (0..texts.len()).filter(|i| !order.contains(i)).collect();
            order.extend(rest);
        }
    }
    order
}

#[cfg(test)]
mod order_tests {
    use super::parents_first;

    fn plan(id: &str, parent: Option<&str>) -> String {
        let text = include_str!("../../../examples/plans/linxiang-city.toml");
        let line = "id = \"linxiang-city-mass-petition\"\n";
        let meta = match parent {
            Some(p) => format!("id = \"{id}\"\nparent = \"{p}\"\n"),
            None => format!("id = \"{id}\"\n"),
        };
        text.replacen(line, &meta, 1)
    }

    #[test]
    fn a_parent_comes_before_its_children() {
        let a = plan("a-child", Some("z-parent"));
        let b = plan("b-grandchild", Some("a-child"));
        let z = plan("z-parent", None);
        let o = plan("other", Some("not-here"));
        assert_eq!(parents_first(&[&a, &b, &z, &o]), vec![2, 3, 0, 1]);
        assert_eq!(parents_first(&[&z, &a, &b]), vec![0, 1, 2]);
        // A cycle keeps the given order.
        let x = plan("x", Some("y"));
        let y = plan("y", Some("x"));
        assert_eq!(parents_first(&[&x, &y]), vec![0, 1]);
    }
}
