//! Drill scripts (演练脚本): a TOML file that describes an exercise run against a plan — the
//! drill's first report and the timed injects a controller plays into it (at +10m the headcount
//! rises to 300; at +25m a call goes unanswered; …). Read with the plan reader's spanned walker,
//! so that every problem is reported with where it is, never only the first, and checked against
//! the plan it exercises. `docs/drill-format.md` documents the format.
//!
//! Reading and checking are two steps. Reading (unknown keys, wrong types, missing keys, an `at`
//! that is not a duration, an unknown kind, a key of another kind) only applies to a file. The
//! rules (time order, `end` last, references into the plan, scope) run on a draft whose
//! values carry an optional span, so that a script built in code ([`check_script`]) is checked by
//! the very same code as a file ([`check`]), only without positions.

use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, Span};
use crate::model::{COMMAND_ID, OFFICE_ID, Plan};
use crate::reader::{Diags, Sp, Table};
use crate::scope;
use crate::time::{fmt_minutes, parse_minutes};
use crate::{MAX_SOURCE_BYTES, Source};

/// The most injects one drill script may hold.
pub const MAX_INJECTS: usize = 200;

/// The latest an inject may come: 24 hours after the drill starts.
pub const MAX_OFFSET_SECS: u64 = 24 * 60 * 60;

/// The word for this kind of file in reader messages ("unknown key `x` in the drill script").
const DOCUMENT: &str = "drill script";

/// A drill script: the exercise, its first report and its injects in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillScript {
    pub title: String,
    /// The id (`meta.id`) of the plan the drill exercises.
    pub plan: String,
    pub scenario: String,
    /// The level the drill intends to exercise (a level id of the plan).
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub participants: Vec<String>,
    #[serde(default)]
    pub observers: Vec<String>,
    pub report: DrillReport,
    pub injects: Vec<Inject>,
}

/// The drill incident's first report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillReport {
    pub title: String,
    pub headcount: u32,
    /// A venue id of the plan.
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub location: Option<String>,
    /// Behaviour ids of the plan.
    #[serde(default)]
    pub behaviours: Vec<String>,
}

/// One timed inject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inject {
    /// Seconds after the drill starts.
    pub at_secs: u64,
    /// What the controller tells the timeline.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(flatten)]
    pub action: InjectAction,
}

/// What an inject changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InjectAction {
    /// The number of people at the scene changes.
    Headcount { headcount: u32 },
    /// Behaviours (ids of the plan) are observed.
    Behaviours { behaviours: Vec<String> },
    /// The crowd moves.
    Location { location: String },
    /// A message to the players, optionally to one post, group, `command` or `office`.
    Message {
        text: String,
        #[serde(default)]
        to: Option<String>,
    },
    /// The response ends.
    End,
}

impl InjectAction {
    /// The kind as written in a script: `headcount`, `behaviours`, `location`, `message`, `end`.
    pub fn kind(&self) -> &'static str {
        match self {
            InjectAction::Headcount { .. } => "headcount",
            InjectAction::Behaviours { .. } => "behaviours",
            InjectAction::Location { .. } => "location",
            InjectAction::Message { .. } => "message",
            InjectAction::End => "end",
        }
    }
}

/// Each inject kind and the keys that belong to it (and to no other kind).
const KINDS: [(&str, &[&str]); 5] = [
    ("headcount", &["headcount"]),
    ("behaviours", &["behaviours"]),
    ("location", &["location"]),
    ("message", &["text", "to"]),
    ("end", &[]),
];

/// A drill script read and checked against the plans handed in (the script's `plan` is looked up
/// among them by id).
#[derive(Debug, Clone)]
pub struct CheckedDrill {
    /// The script, when the file could be read into one (it may still have errors).
    pub script: Option<DrillScript>,
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckedDrill {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }

    /// The script only when there is no error.
    pub fn usable(&self) -> Option<&DrillScript> {
        if self.has_errors() {
            None
        } else {
            self.script.as_ref()
        }
    }
}

fn refused(d: Diagnostic) -> CheckedDrill {
    CheckedDrill {
        script: None,
        diagnostics: vec![d],
    }
}

fn too_large(len: Option<usize>) -> Diagnostic {
    let mut d = crate::too_large(len);
    d.help = Some(
        "a drill script is at most 1 MiB; check that this is the drill script (演练脚本不得超过 1 MiB)"
            .into(),
    );
    d
}

/// Reads and checks one drill script's text against the plans handed in. A text larger than
/// [`MAX_SOURCE_BYTES`] is refused with P0007, as a plan file is.
pub fn check(src: &str, plans: &[&Plan]) -> CheckedDrill {
    if src.len() > MAX_SOURCE_BYTES {
        return refused(too_large(Some(src.len())));
    }
    let (draft, mut diagnostics, syntax_failed) = read(src);
    if syntax_failed {
        // After a syntax error the rest of the file is partly missing and the value at the cut
        // may be half a value: reporting missing keys, or checking values against the plan,
        // would bury the one real problem. As for a plan, only the reading diagnostics are
        // kept until the syntax is fixed.
        diagnostics.retain(|x| x.code != Code::MissingKey);
    } else {
        rules(&draft, plans, &mut diagnostics);
    }
    diagnostics.sort_by_key(|d| (d.span.as_ref().map_or(0, |s| s.start), d.code));
    diagnostics.dedup();
    CheckedDrill {
        script: draft.build(),
        diagnostics,
    }
}

/// Checks a file read with [`crate::read_limited`] into a [`Source`]: refused with P0007 when
/// larger than [`MAX_SOURCE_BYTES`], with P0008 at the first byte that is not UTF-8, otherwise
/// as [`check`].
pub fn check_source(source: &Source, plans: &[&Plan]) -> CheckedDrill {
    match &source.refused {
        Some(d) if d.code == Code::TooLarge => refused(too_large(None)),
        Some(d) => refused(d.clone()),
        None => check(&source.text, plans),
    }
}

/// A script built in code (the console's start form) checked by the same rules, without spans
/// (diagnostics with no span): used when a drill is started without a file.
pub fn check_script(script: &DrillScript, plans: &[&Plan]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    rules(&Draft::of(script), plans, &mut out);
    out
}

// ---------------------------------------------------------------------------------------------
// The draft: what was read, with optional spans, for the rules.

/// A value and where it is written; `None` for a script built in code.
#[derive(Debug, Clone)]
struct V<T> {
    value: T,
    span: Option<Span>,
}

impl<T> V<T> {
    fn bare(value: T) -> Self {
        V { value, span: None }
    }
}

impl<T> From<Sp<T>> for V<T> {
    fn from(s: Sp<T>) -> Self {
        V {
            value: s.value,
            span: Some(s.span),
        }
    }
}

/// A drill script as far as it could be read. Every rule runs on this, so that a half-read file
/// is still checked as far as it goes.
#[derive(Debug, Default)]
struct Draft {
    title: Option<V<String>>,
    plan: Option<V<String>>,
    scenario: Option<V<String>>,
    level: Option<V<String>>,
    participants: Vec<String>,
    observers: Vec<String>,
    report: Option<DraftReport>,
    /// Every inject table, read or not, in file order.
    injects: Vec<DraftInject>,
    /// How many entries `injects` holds in the file (tables or not); `None`: as many as
    /// `injects`.
    injects_written: Option<usize>,
    /// Where the list of injects is, or where it belongs.
    injects_span: Option<Span>,
}

#[derive(Debug)]
struct DraftReport {
    title: Option<V<String>>,
    headcount: Option<V<u32>>,
    venue: Option<V<String>>,
    location: Option<V<String>>,
    behaviours: Vec<V<String>>,
    /// The `[report]` header.
    span: Option<Span>,
}

#[derive(Debug)]
struct DraftInject {
    /// Its index among the injects, for messages (`injects[3]`).
    index: usize,
    /// The start of the inject's table.
    span: Option<Span>,
    /// Seconds after the start (negative only in a faulty file).
    at: Option<V<i64>>,
    note: Option<V<String>>,
    kind_span: Option<Span>,
    action: Option<DraftAction>,
}

impl DraftInject {
    fn path(&self) -> String {
        format!("injects[{}]", self.index)
    }

    /// Where to point at the inject as a whole: its `at`, else its table.
    fn anchor(&self) -> Option<Span> {
        self.at
            .as_ref()
            .and_then(|a| a.span.clone())
            .or_else(|| self.span.clone())
    }
}

#[derive(Debug)]
enum DraftAction {
    Headcount(V<u32>),
    Behaviours {
        list: Vec<V<String>>,
        span: Option<Span>,
    },
    Location(V<String>),
    Message {
        text: V<String>,
        to: Option<V<String>>,
    },
    End,
}

impl DraftAction {
    fn build(&self) -> InjectAction {
        match self {
            DraftAction::Headcount(h) => InjectAction::Headcount { headcount: h.value },
            DraftAction::Behaviours { list, .. } => InjectAction::Behaviours {
                behaviours: values(list),
            },
            DraftAction::Location(l) => InjectAction::Location {
                location: l.value.clone(),
            },
            DraftAction::Message { text, to } => InjectAction::Message {
                text: text.value.clone(),
                to: to.as_ref().map(|t| t.value.clone()),
            },
            DraftAction::End => InjectAction::End,
        }
    }
}

fn values(list: &[V<String>]) -> Vec<String> {
    list.iter().map(|v| v.value.clone()).collect()
}

fn bare_list(list: &[String]) -> Vec<V<String>> {
    list.iter().cloned().map(V::bare).collect()
}

impl Draft {
    /// The script, when everything it requires was read. Injects that could not be read are
    /// left out (they have their diagnostics).
    fn build(&self) -> Option<DrillScript> {
        let r = self.report.as_ref()?;
        let report = DrillReport {
            title: r.title.as_ref()?.value.clone(),
            headcount: r.headcount.as_ref()?.value,
            venue: r.venue.as_ref().map(|v| v.value.clone()),
            location: r.location.as_ref().map(|v| v.value.clone()),
            behaviours: values(&r.behaviours),
        };
        let injects = self
            .injects
            .iter()
            .filter_map(|i| {
                Some(Inject {
                    at_secs: u64::try_from(i.at.as_ref()?.value).ok()?,
                    note: i.note.as_ref().map(|n| n.value.clone()),
                    action: i.action.as_ref()?.build(),
                })
            })
            .collect();
        Some(DrillScript {
            title: self.title.as_ref()?.value.clone(),
            plan: self.plan.as_ref()?.value.clone(),
            scenario: self.scenario.as_ref()?.value.clone(),
            level: self.level.as_ref().map(|l| l.value.clone()),
            participants: self.participants.clone(),
            observers: self.observers.clone(),
            report,
            injects,
        })
    }

    /// A script built in code, as a draft without spans.
    fn of(s: &DrillScript) -> Draft {
        let opt = |o: &Option<String>| o.clone().map(V::bare);
        Draft {
            title: Some(V::bare(s.title.clone())),
            plan: Some(V::bare(s.plan.clone())),
            scenario: Some(V::bare(s.scenario.clone())),
            level: opt(&s.level),
            participants: s.participants.clone(),
            observers: s.observers.clone(),
            report: Some(DraftReport {
                title: Some(V::bare(s.report.title.clone())),
                headcount: Some(V::bare(s.report.headcount)),
                venue: opt(&s.report.venue),
                location: opt(&s.report.location),
                behaviours: bare_list(&s.report.behaviours),
                span: None,
            }),
            injects: s
                .injects
                .iter()
                .enumerate()
                .map(|(index, i)| DraftInject {
                    index,
                    span: None,
                    at: Some(V::bare(i64::try_from(i.at_secs).unwrap_or(i64::MAX))),
                    note: opt(&i.note),
                    kind_span: None,
                    action: Some(match &i.action {
                        InjectAction::Headcount { headcount } => {
                            DraftAction::Headcount(V::bare(*headcount))
                        }
                        InjectAction::Behaviours { behaviours } => DraftAction::Behaviours {
                            list: bare_list(behaviours),
                            span: None,
                        },
                        InjectAction::Location { location } => {
                            DraftAction::Location(V::bare(location.clone()))
                        }
                        InjectAction::Message { text, to } => DraftAction::Message {
                            text: V::bare(text.clone()),
                            to: opt(to),
                        },
                        InjectAction::End => DraftAction::End,
                    }),
                })
                .collect(),
            injects_written: None,
            injects_span: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading a file.

/// The first byte of a table, for "missing" and "this inject" diagnostics.
fn head(span: Span) -> Span {
    span.start
        ..span
            .start
            .saturating_add(1)
            .min(span.end.max(span.start + 1))
}

/// Reads a drill script's TOML into a draft, with every reading diagnostic, and whether the
/// TOML had a syntax error.
fn read(src: &str) -> (Draft, Vec<Diagnostic>, bool) {
    let d = Diags::default();
    let (doc, errors) = DeTable::parse_recoverable(src);
    for e in &errors {
        let span = e.span().unwrap_or(0..0);
        d.push(
            Diagnostic::new(
                Code::Syntax,
                span,
                format!("invalid TOML: {}", e.message().trim()),
            )
            .label("here"),
        );
    }
    let syntax_failed = !errors.is_empty();
    let root = Table::new(doc.get_ref(), doc.span(), String::new(), &d).in_document(DOCUMENT);
    let mut draft = Draft::default();
    if let Some(t) = root.req_table("drill") {
        draft.title = t.req_str("title").map(V::from);
        draft.plan = t.req_str("plan").map(V::from);
        draft.scenario = t.req_str("scenario").map(V::from);
        draft.level = t.str("level").map(V::from);
        draft.participants = t
            .str_list("participants")
            .into_iter()
            .map(|s| s.value)
            .collect();
        draft.observers = t
            .str_list("observers")
            .into_iter()
            .map(|s| s.value)
            .collect();
        t.finish();
    }
    draft.report = root.req_table("report").map(|t| {
        let r = DraftReport {
            title: t.req_str("title").map(V::from),
            headcount: t.req_u32("headcount").map(V::from),
            venue: t.str("venue").map(V::from),
            location: t.str("location").map(V::from),
            behaviours: t.str_list("behaviours").into_iter().map(V::from).collect(),
            span: Some(head(t.span())),
        };
        t.finish();
        r
    });
    let written = root.value("injects");
    draft.injects_span = Some(written.map_or_else(|| head(root.span()), |v| v.span()));
    draft.injects_written = Some(match written.map(|v| v.get_ref()) {
        None => 0,
        Some(DeValue::Array(a)) => a.len(),
        Some(_) => 1,
    });
    draft.injects = root
        .tables("injects")
        .iter()
        .enumerate()
        .map(|(i, t)| read_inject(i, t))
        .collect();
    if !syntax_failed {
        root.finish();
    }
    (draft, d.into_vec(), syntax_failed)
}

fn read_inject(index: usize, t: &Table<'_, '_>) -> DraftInject {
    let d = t.diags();
    let path = t.path().to_string();
    let at = t.req_str("at").and_then(|s| match parse_minutes(&s.value) {
        Ok(m) => Some(V {
            value: m.saturating_mul(60),
            span: Some(s.span),
        }),
        Err(e) => {
            d.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    s.span,
                    format!("`{path}.at` is not a duration after the start: {e}"),
                )
                .label("not a duration")
                .help("write the time after the drill starts, e.g. `10m`, `90m` or `1h30m` (注入时间写法如 10m、1h30m)"),
            );
            None
        }
    });
    let kind = t.req_str("kind");
    let note = t.str("note").map(V::from);
    let own = kind
        .as_ref()
        .and_then(|k| KINDS.iter().find(|(name, _)| *name == k.value));
    let action = match (&kind, own) {
        (Some(_), Some((name, keys))) => {
            for (other, other_keys) in KINDS {
                for key in other_keys {
                    if !keys.contains(key) {
                        t.forbid(key, &format!("is only for injects of kind `{other}`"));
                    }
                }
            }
            read_action(t, name)
        }
        (k, _) => {
            if let Some(k) = k {
                d.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        k.span.clone(),
                        format!("`{}` is not an inject kind", k.value),
                    )
                    .label("unknown kind")
                    .help("use headcount, behaviours, location, message or end"),
                );
            }
            // Without a known kind, which keys belong is unknown: none is reported.
            for (_, keys) in KINDS {
                for key in keys {
                    t.has(key);
                }
            }
            None
        }
    };
    t.finish();
    DraftInject {
        index,
        span: Some(head(t.span())),
        at,
        note,
        kind_span: kind.map(|k| k.span),
        action,
    }
}

fn read_action(t: &Table<'_, '_>, kind: &str) -> Option<DraftAction> {
    match kind {
        "headcount" => t
            .req_u32("headcount")
            .map(|h| DraftAction::Headcount(h.into())),
        "behaviours" => {
            let list = t.req_str_list("behaviours")?;
            let raw = t.value("behaviours")?;
            // Items that are not strings are reported each; a list of nothing but such items
            // is not also reported as empty.
            if list.is_empty() && matches!(raw.get_ref(), DeValue::Array(a) if !a.is_empty()) {
                return None;
            }
            Some(DraftAction::Behaviours {
                list: list.into_iter().map(V::from).collect(),
                span: Some(raw.span()),
            })
        }
        "location" => t
            .req_str("location")
            .map(|l| DraftAction::Location(l.into())),
        "message" => {
            let text = t.req_str("text");
            let to = t.str("to").map(V::from);
            Some(DraftAction::Message {
                text: text?.into(),
                to,
            })
        }
        _ => Some(DraftAction::End),
    }
}

// ---------------------------------------------------------------------------------------------
// The rules, shared by files and scripts built in code.

/// An offset written back the way a script writes it (`10m`, `1h30m`; seconds only when it is
/// not whole minutes).
fn offset(secs: i64) -> String {
    if secs % 60 == 0 {
        fmt_minutes(secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// A comma-separated list of ids for a help text, or `none`.
fn listing<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = ids.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn rules(d: &Draft, plans: &[&Plan], out: &mut Vec<Diagnostic>) {
    non_empty(d.title.as_ref(), "drill.title", "drill title", out);
    non_empty(d.scenario.as_ref(), "drill.scenario", "drill scenario", out);
    let plan = d.plan.as_ref().and_then(|p| find_plan(p, plans, out));
    if let (Some(p), Some(l)) = (plan, &d.level)
        && p.level(&l.value).is_none()
    {
        out.push(
            Diagnostic::new(
                Code::UndefinedLevel,
                l.span.clone(),
                format!(
                    "`drill.level`: `{}` is not a level of plan `{}`",
                    l.value,
                    p.id()
                ),
            )
            .label("undefined level")
            .help(format!(
                "the plan's levels are: {} (演练级别须为预案中的级别标识)",
                listing(p.levels.iter().map(|l| l.id.as_str()))
            )),
        );
    }
    if let Some(r) = &d.report {
        non_empty(r.title.as_ref(), "report.title", "report title", out);
        if let Some(h) = &r.headcount
            && h.value == 0
        {
            out.push(at_least_one(h.span.clone(), "report.headcount"));
        }
        if let Some(p) = plan {
            match &r.venue {
                Some(v) => venue_ref(p, v, out),
                None if p.grades_by_venue() => out.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        r.span.clone(),
                        format!(
                            "plan `{}` grades by venue: the drill report needs `venue`",
                            p.id()
                        ),
                    )
                    .label("`venue` is required here")
                    .help(format!(
                        "give one of the plan's venues: {} (该预案按去向分级，首报须填写去向)",
                        listing(p.venues.iter().map(|v| v.id.as_str()))
                    )),
                ),
                None => {}
            }
            for b in &r.behaviours {
                behaviour_ref(p, "report.behaviours", b, out);
            }
        }
    }
    scope_value("drill title", d.title.as_ref(), out);
    scope_value("drill scenario", d.scenario.as_ref(), out);
    if let Some(r) = &d.report {
        scope_value("drill report title", r.title.as_ref(), out);
        scope_value("drill report location", r.location.as_ref(), out);
    }
    for i in &d.injects {
        inject_rules(i, plan, out);
    }
    order(d, out);
}

/// The rules of one inject on its own.
fn inject_rules(i: &DraftInject, plan: Option<&Plan>, out: &mut Vec<Diagnostic>) {
    let path = i.path();
    if let Some(at) = &i.at {
        if at.value <= 0 {
            out.push(
                Diagnostic::new(
                    Code::NonPositiveTimeLimit,
                    at.span.clone(),
                    format!(
                        "`{path}.at` must be after the drill starts, not {}",
                        offset(at.value)
                    ),
                )
                .label("zero or negative")
                .help("`at` is the time after the start of the drill, e.g. `10m` (注入时间须在演练开始之后)"),
            );
        } else if at.value.unsigned_abs() > MAX_OFFSET_SECS {
            out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    at.span.clone(),
                    format!(
                        "`{path}.at` is {} after the start; a drill lasts at most 24h",
                        offset(at.value)
                    ),
                )
                .label("later than 24h")
                .help("split a longer exercise into several drills (演练脚本的注入须在开始后24小时之内)"),
            );
        }
    }
    match &i.action {
        Some(DraftAction::Headcount(h)) if h.value == 0 => {
            out.push(at_least_one(h.span.clone(), &format!("{path}.headcount")));
        }
        Some(DraftAction::Behaviours { list, span }) => {
            if list.is_empty() {
                out.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        span.clone(),
                        format!("`{path}.behaviours` is empty: a behaviours inject names at least one behaviour"),
                    )
                    .label("no behaviour")
                    .help("give behaviour ids of the plan, e.g. behaviours = [\"blocking-traffic\"] (须至少填写一个现场行为)"),
                );
            }
            if let Some(p) = plan {
                for b in list {
                    behaviour_ref(p, &format!("{path}.behaviours"), b, out);
                }
            }
        }
        Some(DraftAction::Location(l)) => {
            non_empty(Some(l), &format!("{path}.location"), "location", out);
        }
        Some(DraftAction::Message { text, to }) => {
            non_empty(Some(text), &format!("{path}.text"), "message text", out);
            if let (Some(p), Some(to)) = (plan, to) {
                recipient_ref(p, &format!("{path}.to"), to, out);
            }
        }
        _ => {}
    }
    scope_value("inject note", i.note.as_ref(), out);
    match &i.action {
        Some(DraftAction::Location(l)) => scope_value("inject location", Some(l), out),
        Some(DraftAction::Message { text, .. }) => scope_value("inject message", Some(text), out),
        _ => {}
    }
}

/// The rules across injects: at least one, at most [`MAX_INJECTS`], in time order, nothing
/// after `end`.
fn order(d: &Draft, out: &mut Vec<Diagnostic>) {
    let written = d.injects_written.unwrap_or(d.injects.len());
    if written == 0 {
        out.push(
            Diagnostic::new(
                Code::MissingKey,
                d.injects_span.clone(),
                "the drill script has no injects",
            )
            .label("at least one [[injects]] is required")
            .help("add the injects in time order; the last is usually `kind = \"end\"` (演练脚本至少需要一条注入)"),
        );
    }
    if let Some(over) = d.injects.get(MAX_INJECTS) {
        out.push(
            Diagnostic::new(
                Code::InvalidValue,
                over.anchor(),
                format!(
                    "{} injects: a drill script holds at most {MAX_INJECTS}",
                    d.injects.len()
                ),
            )
            .label(format!("inject {} of the script", MAX_INJECTS + 1))
            .help("split the exercise into several drills (每个演练脚本最多200条注入)"),
        );
    }
    let mut prev: Option<(&DraftInject, &V<i64>)> = None;
    for i in &d.injects {
        let Some(at) = &i.at else { continue };
        if let Some((p, pat)) = prev
            && at.value < pat.value
        {
            let mut x = Diagnostic::new(
                Code::InjectOrder,
                at.span.clone(),
                format!(
                    "`{}` at +{} is listed after `{}` at +{}: injects must be in time order",
                    i.path(),
                    offset(at.value),
                    p.path(),
                    offset(pat.value)
                ),
            )
            .label("earlier than the inject before it")
            .help("list the injects in the order they happen (注入须按时间先后排列)");
            if let Some(s) = &pat.span {
                x = x.note(
                    s.clone(),
                    format!("the inject before it, at +{}", offset(pat.value)),
                );
            }
            out.push(x);
        }
        prev = Some((i, at));
    }
    if let Some(end) = d
        .injects
        .iter()
        .position(|i| matches!(i.action, Some(DraftAction::End)))
        && let Some(next) = d.injects.get(end + 1)
    {
        let after = d.injects.len() - end - 1;
        let e = &d.injects[end];
        let mut x = Diagnostic::new(
            Code::InjectAfterEnd,
            next.anchor(),
            format!(
                "{after} inject(s) after the `end` inject (`{}`): nothing happens after the drill has ended",
                e.path()
            ),
        )
        .label("after the end")
        .help("make `kind = \"end\"` the last inject, or remove what follows it (结束注入之后不能再有注入)");
        if let Some(s) = e.kind_span.clone().or_else(|| e.anchor()) {
            x = x.note(s, "the drill ends here");
        }
        out.push(x);
    }
}

/// A required text that is empty or only whitespace (P0213).
fn non_empty(v: Option<&V<String>>, path: &str, what: &str, out: &mut Vec<Diagnostic>) {
    if let Some(v) = v
        && v.value.trim().is_empty()
    {
        out.push(
            Diagnostic::new(
                Code::EmptyTitle,
                v.span.clone(),
                format!("the {what} (`{path}`) is empty"),
            )
            .label("empty")
            .help("write it; it is what the players and the timeline are shown (不能为空)"),
        );
    }
}

fn at_least_one(span: Option<Span>, path: &str) -> Diagnostic {
    Diagnostic::new(
        Code::InvalidValue,
        span,
        format!("`{path}` must be at least 1"),
    )
    .label("no one")
    .help("the number of people at the scene (现场人数至少为1)")
}

/// The plan the script exercises, or P0303.
fn find_plan<'p>(v: &V<String>, plans: &[&'p Plan], out: &mut Vec<Diagnostic>) -> Option<&'p Plan> {
    if let Some(p) = plans.iter().find(|p| p.id() == v.value) {
        return Some(p);
    }
    let help = if plans.is_empty() {
        "no plan was given: check the script together with the plan it exercises (演练脚本须与所演练的预案一起检查)".to_string()
    } else {
        format!(
            "`plan` is the `meta.id` of the plan exercised; the plans given are: {} (须填写所演练预案的 meta.id)",
            listing(plans.iter().map(|p| p.id()))
        )
    };
    out.push(
        Diagnostic::new(
            Code::DrillPlanNotFound,
            v.span.clone(),
            format!(
                "the drill exercises plan `{}`, which is not among the plans given",
                v.value
            ),
        )
        .label("unknown plan")
        .help(help),
    );
    None
}

fn venue_ref(p: &Plan, v: &V<String>, out: &mut Vec<Diagnostic>) {
    if p.venues.iter().any(|x| x.id.value == v.value) {
        return;
    }
    let help = if p.venues.is_empty() {
        "the plan does not grade by venue; leave `venue` out (该预案不按去向分级)".to_string()
    } else {
        format!(
            "the plan's venues are: {} (去向须为预案中的去向标识)",
            listing(p.venues.iter().map(|x| x.id.as_str()))
        )
    };
    out.push(
        Diagnostic::new(
            Code::UndefinedName,
            v.span.clone(),
            format!(
                "`report.venue`: `{}` is not a venue of plan `{}`",
                v.value,
                p.id()
            ),
        )
        .label("undefined venue")
        .help(help),
    );
}

fn behaviour_ref(p: &Plan, path: &str, b: &V<String>, out: &mut Vec<Diagnostic>) {
    if p.behaviours.iter().any(|x| x.id.value == b.value) {
        return;
    }
    out.push(
        Diagnostic::new(
            Code::UndefinedName,
            b.span.clone(),
            format!(
                "`{path}`: `{}` is not a behaviour of plan `{}`",
                b.value,
                p.id()
            ),
        )
        .label("undefined behaviour")
        .help(format!(
            "the plan's behaviours are: {} (现场行为须为预案中的行为标识)",
            listing(p.behaviours.iter().map(|x| x.id.as_str()))
        )),
    );
}

/// `to`: a post, a group, `command`, or `office` when the plan has one.
fn recipient_ref(p: &Plan, path: &str, to: &V<String>, out: &mut Vec<Diagnostic>) {
    let id = to.value.as_str();
    if p.post(id).is_some()
        || p.group(id).is_some()
        || id == COMMAND_ID
        || (id == OFFICE_ID && p.office.is_some())
    {
        return;
    }
    let (code, help) = if id == OFFICE_ID {
        (
            Code::UndefinedGroup,
            "the plan has no [office] table; name a post, a group or `command`".to_string(),
        )
    } else if p.member_units.iter().any(|u| u.id.value == id) {
        (
            Code::UndefinedPost,
            format!("`{id}` is a member unit; name a post (a position such as its head)"),
        )
    } else {
        (
            Code::UndefinedPost,
            "name a post id, a group id, `command` or `office` of the plan (消息接收方须为预案中的职务、工作组、指挥部或办公室)".to_string(),
        )
    };
    out.push(
        Diagnostic::new(
            code,
            to.span.clone(),
            format!(
                "`{path}`: `{id}` is not a post, group, `command` or `office` of plan `{}`",
                p.id()
            ),
        )
        .label("undefined recipient")
        .help(help),
    );
}

/// Refuses a text that names a measure yingji does not build, with the code a plan would get.
fn scope_value(what: &str, v: Option<&V<String>>, out: &mut Vec<Diagnostic>) {
    let Some(v) = v else { return };
    let value = scope::Value {
        what,
        text: &v.value,
        span: v.span.clone().unwrap_or(0..0),
    };
    if let Some(mut x) = scope::check_item(&[value], false) {
        x.span = v.span.clone();
        out.push(x);
    }
}
