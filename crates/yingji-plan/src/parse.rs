//! Reads a plan file's TOML into the plan model, collecting every structural problem (syntax,
//! unknown keys, wrong types, missing keys, invalid values) instead of stopping at the first.

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Code, Diagnostic, Span};
use crate::model::*;
use crate::reader::{Diags, Sp, Table, type_name};
use crate::scope;
use crate::time::{TimeLimit, parse_clock, parse_minutes};

/// The default time zone of a plan that does not name one.
pub const DEFAULT_ZONE: &str = "Asia/Shanghai";

/// Reads a plan. Returns the plan when the file was readable enough to build one (it may still
/// carry errors), and every diagnostic found while reading.
pub fn read(src: &str) -> (Option<Plan>, Vec<Diagnostic>) {
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
    let root = Table::new(doc.get_ref(), doc.span(), String::new(), &d);
    let plan = read_plan(&root);
    // After a syntax error the rest of the file is partly missing: reporting its keys as missing
    // would bury the one real problem.
    if !syntax_failed {
        root.finish();
    }
    let mut diags = d.into_vec();
    if syntax_failed {
        diags.retain(|x| x.code != Code::MissingKey);
    }
    (plan, diags)
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

fn id_of(t: &Table<'_, '_>, key: &'static str) -> Option<Sp<String>> {
    let v = t.req_str(key)?;
    if !is_id(&v.value) {
        t.diags().push(
            Diagnostic::new(
                Code::InvalidValue,
                v.span.clone(),
                format!("`{}` is not a valid id", v.value),
            )
            .label("ids use letters, digits, `-`, `_` and `.` only")
            .help("ids are stable machine names such as `order-group` or `IV`; put the Chinese name in `name`"),
        );
    }
    Some(v)
}

/// A required title or name: P0004 when absent, P0213 when empty or only whitespace.
fn req_title(t: &Table<'_, '_>, key: &'static str, what: &str) -> Option<Sp<String>> {
    let v = t.req_str(key)?;
    if v.value.trim().is_empty() {
        t.diags().push(
            Diagnostic::new(
                Code::EmptyTitle,
                v.span.clone(),
                format!("the {what} (`{}.{key}`) is empty", t.path()),
            )
            .label("empty")
            .help("write what it is; the title is what people are shown (标题/名称不能为空)"),
        );
    }
    Some(v)
}

/// Refuses an item whose values name a measure yingji does not build (`scope`).
fn scope_item(d: &Diags, values: &[scope::Value<'_>], identity: bool) {
    if let Some(x) = scope::check_item(values, identity) {
        d.push(x);
    }
}

fn value<'a>(what: &'a str, v: &'a Sp<String>) -> scope::Value<'a> {
    scope::Value {
        what,
        text: &v.value,
        span: v.span.clone(),
    }
}

fn text(t: &Table<'_, '_>, key: &'static str) -> Option<String> {
    t.str(key).map(|s| s.value)
}

fn texts(t: &Table<'_, '_>, key: &'static str) -> Vec<String> {
    t.str_list(key).into_iter().map(|s| s.value).collect()
}

fn read_plan(root: &Table<'_, '_>) -> Option<Plan> {
    let d = root.diags();
    if let Some(f) = root.req_u32("format")
        && f.value != 1
    {
        d.push(
            Diagnostic::new(
                Code::InvalidValue,
                f.span,
                format!("this yingji reads plan format 1, not {}", f.value),
            )
            .label("unsupported format"),
        );
    }
    let meta = root.req_table("meta").map(|t| read_meta(&t));
    let time = read_time(root);
    let scope = root.table("scope").map(|t| {
        let s = Scope {
            headcount: t
                .value("headcount")
                .and_then(|v| headcount(&t, "headcount", v)),
            description: text(&t, "description"),
        };
        t.finish();
        s
    });
    let posts = root
        .tables("posts")
        .into_iter()
        .filter_map(|t| {
            let (id, name, unit) = (
                id_of(&t, "id"),
                req_title(&t, "name", "post name"),
                t.str("unit"),
            );
            let above = t.str("above");
            t.finish();
            Some(Post {
                id: id?,
                name: name.map(|n| n.value).unwrap_or_default(),
                unit,
                above,
            })
        })
        .collect();
    let command = root.req_table("command").map(|t| {
        let c = Command {
            name: req_title(&t, "name", "command name")
                .map(|s| s.value)
                .unwrap_or_default(),
            commander_title: text(&t, "commander_title").unwrap_or_else(|| "指挥长".into()),
            deputy_title: text(&t, "deputy_title").unwrap_or_else(|| "副指挥长".into()),
            leads: t.str_list("leads"),
            deputies: t.str_list("deputies"),
            members: t.str_list("members"),
            duties: texts(&t, "duties"),
            span: t.span(),
        };
        t.finish();
        c
    });
    let office = root.table("office").map(|t| {
        let o = Office {
            name: req_title(&t, "name", "office name")
                .map(|s| s.value)
                .unwrap_or_default(),
            location: text(&t, "location"),
            head: t.str("head"),
            deputies: t.str_list("deputies"),
            members: t.str_list("members"),
            duties: texts(&t, "duties"),
        };
        t.finish();
        o
    });
    let groups = root
        .tables("groups")
        .into_iter()
        .filter_map(|t| {
            let id = id_of(&t, "id");
            let name = req_title(&t, "name", "group name");
            let tasks = t
                .tables("tasks")
                .into_iter()
                .filter_map(|tt| {
                    let group = id.clone().unwrap_or_else(|| Sp::new(String::new(), 0..0));
                    read_task(&tt, Some(group))
                })
                .collect();
            let (lead, deputies, members, units, duties) = (
                t.str("lead"),
                t.str_list("deputies"),
                t.str_list("members"),
                t.str_list("units"),
                texts(&t, "duties"),
            );
            t.finish();
            Some(Group {
                id: id?,
                name: name.map(|n| n.value).unwrap_or_default(),
                lead,
                deputies,
                members,
                units,
                duties,
                tasks,
            })
        })
        .collect();
    let member_units = root
        .tables("member_units")
        .into_iter()
        .filter_map(|t| {
            let (id, name, head, duties) = (
                id_of(&t, "id"),
                req_title(&t, "name", "member unit name"),
                t.str("head"),
                texts(&t, "duties"),
            );
            t.finish();
            Some(MemberUnit {
                id: id?,
                name: name.map(|n| n.value).unwrap_or_default(),
                head,
                duties,
            })
        })
        .collect();
    let venues = read_choices(root, "venues");
    let behaviours = read_choices(root, "behaviours");
    let levels = root
        .tables("levels")
        .into_iter()
        .filter_map(|t| read_level(&t))
        .collect();
    let first_response = root
        .tables("first_response")
        .into_iter()
        .filter_map(|t| read_task(&t, None))
        .collect();
    let intake = root
        .tables("intake")
        .into_iter()
        .filter_map(|t| read_field(&t))
        .collect();
    let special_periods = root
        .tables("special_periods")
        .into_iter()
        .filter_map(|t| read_period(&t))
        .collect();
    let schedules = root
        .tables("schedules")
        .into_iter()
        .filter_map(|t| read_schedule(&t))
        .collect();
    let aftermath = root
        .table("aftermath")
        .map(|t| {
            let a = Aftermath {
                duties: t
                    .tables("duties")
                    .into_iter()
                    .filter_map(|dt| {
                        let title = req_title(&dt, "title", "aftermath duty title");
                        let owner = dt.str("owner");
                        let within = dt.value("within").and_then(|v| limit(&dt, "within", v));
                        dt.finish();
                        let title = title?;
                        scope_item(d, &[value("aftermath duty", &title)], false);
                        Some(AftermathDuty {
                            span: title.span,
                            title: title.value,
                            owner,
                            within,
                        })
                    })
                    .collect(),
                reply_within: t
                    .value("reply_within")
                    .and_then(|v| limit(&t, "reply_within", v)),
                review_within: t
                    .value("review_within")
                    .and_then(|v| limit(&t, "review_within", v)),
            };
            t.finish();
            a
        })
        .unwrap_or_default();
    let drills = root.table("drills").and_then(|t| read_cadence(&t));
    let review = root.table("review").and_then(|t| read_cadence(&t));
    let escalation = root
        .tables("escalation")
        .into_iter()
        .filter_map(|t| read_escalation(&t))
        .collect();

    Some(Plan {
        meta: meta??,
        time,
        scope: scope.unwrap_or_default(),
        posts,
        command: command?,
        office,
        groups,
        member_units,
        venues,
        behaviours,
        levels,
        first_response,
        intake,
        special_periods,
        schedules,
        aftermath,
        drills,
        review,
        escalation,
    })
}

/// A duration in whole minutes (`5m`, `1h`), with P0005 for anything else.
fn minutes(t: &Table<'_, '_>, key: &'static str) -> Option<Sp<i64>> {
    let s = t.str(key)?;
    match parse_minutes(&s.value) {
        Ok(m) => Some(Sp::new(m, s.span)),
        Err(e) => {
            t.diags().push(
                Diagnostic::new(Code::InvalidValue, s.span, e)
                    .label("not a duration")
                    .help("write a duration such as `5m`, `10m` or `1h`"),
            );
            None
        }
    }
}

fn read_escalation(t: &Table<'_, '_>) -> Option<Escalation> {
    let d = t.diags();
    let levels = t.str_list("levels");
    let every_recipient = t.bool("every_recipient").is_some_and(|b| b.value);
    let repeat_every = minutes(t, "repeat_every");
    let repeat_times = t.u32("repeat_times").map(|n| n.value);
    if repeat_times.is_some() && !t.has("repeat_every") {
        d.push(
            Diagnostic::new(
                Code::MissingKey,
                t.key_span("repeat_times").unwrap_or(t.span()),
                format!("`{}.repeat_times` needs `repeat_every`", t.path()),
            )
            .label("how often to repeat is not said"),
        );
    }
    let steps = t
        .tables("steps")
        .into_iter()
        .filter_map(|s| {
            let after = if s.has("after") {
                minutes(&s, "after")
            } else {
                s.req_str("after");
                None
            };
            let to = s.req_str("to");
            let post = s.str("post");
            s.finish();
            let to_sp = to?;
            let target = match EscalationTarget::parse(&to_sp.value) {
                Some(x) => x,
                None => {
                    d.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            to_sp.span,
                            format!("`{}` is not an escalation target", to_sp.value),
                        )
                        .label("unknown target")
                        .help("use deputy, above, post or parent_office"),
                    );
                    return None;
                }
            };
            if target == EscalationTarget::Post && post.is_none() {
                d.push(
                    Diagnostic::new(
                        Code::MissingKey,
                        to_sp.span.clone(),
                        "`to = \"post\"` needs `post`, the post to call".to_string(),
                    )
                    .label("which post?"),
                );
            }
            Some(EscalationStep {
                after: after?,
                to: target,
                post,
                span: s.span(),
            })
        })
        .collect();
    t.finish();
    Some(Escalation {
        levels,
        every_recipient,
        repeat_times: repeat_times.unwrap_or(if repeat_every.is_some() { 1 } else { 0 }),
        repeat_every,
        steps,
        span: t.span(),
    })
}

fn read_meta(t: &Table<'_, '_>) -> Option<Meta> {
    let id = id_of(t, "id");
    let title = req_title(t, "title", "plan title");
    let m = Meta {
        id: id.clone().unwrap_or_else(|| Sp::new(String::new(), 0..0)),
        title: title.clone().map(|t| t.value).unwrap_or_default(),
        doc_number: text(t, "doc_number"),
        issuer: text(t, "issuer"),
        issued_on: t.date("issued_on").map(|d| d.value),
        effective_on: t.date("effective_on").map(|d| d.value),
        approved_by: text(t, "approved_by"),
        interpreted_by: text(t, "interpreted_by"),
        jurisdiction: text(t, "jurisdiction"),
        jurisdiction_code: text(t, "jurisdiction_code"),
        version: text(t, "version"),
        basis: texts(t, "basis"),
        event_types: texts(t, "event_types"),
        parent: t.str("parent"),
        linked_below: texts(t, "linked_below"),
        principles: texts(t, "principles"),
        publicity: text(t, "publicity"),
    };
    t.finish();
    (id.is_some() && title.is_some()).then_some(m)
}

fn read_time(root: &Table<'_, '_>) -> TimeConfig {
    let d = root.diags();
    let mut cfg = TimeConfig {
        zone: DEFAULT_ZONE.into(),
        tz: jiff::tz::db()
            .get(DEFAULT_ZONE)
            .unwrap_or(jiff::tz::TimeZone::fixed(jiff::tz::offset(8))),
        day: None,
    };
    let Some(t) = root.table("time") else {
        return cfg;
    };
    if let Some(z) = t.str("zone") {
        match jiff::tz::db().get(&z.value) {
            Ok(tz) => {
                cfg.zone = z.value;
                cfg.tz = tz;
            }
            Err(_) => d.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    z.span,
                    format!("`{}` is not a known time zone", z.value),
                )
                .label("unknown zone")
                .help("use an IANA zone name such as `Asia/Shanghai` or `Asia/Urumqi`"),
            ),
        }
    }
    let clock = |key: &'static str| -> Option<jiff::civil::Time> {
        let v = t.str(key)?;
        match parse_clock(&v.value) {
            Ok(c) => Some(c),
            Err(e) => {
                d.push(Diagnostic::new(Code::InvalidValue, v.span, e).label("not HH:MM"));
                None
            }
        }
    };
    let day_starts = clock("day_starts");
    let night_starts = clock("night_starts");
    match (day_starts, night_starts) {
        (Some(a), Some(b)) if a == b => d.push(
            Diagnostic::new(
                Code::InvalidValue,
                t.span(),
                "`time.day_starts` and `time.night_starts` are the same time",
            )
            .label("the day would be empty"),
        ),
        (Some(a), Some(b)) => {
            cfg.day = Some(DayWindow {
                day_starts: a,
                night_starts: b,
            })
        }
        (Some(_), None) | (None, Some(_)) => d.push(
            Diagnostic::new(
                Code::MissingKey,
                t.span(),
                "`time` needs both `day_starts` and `night_starts`",
            )
            .label("only one of them is given"),
        ),
        (None, None) => {}
    }
    t.finish();
    cfg
}

/// Reads a headcount range table `{ at_least | more_than, at_most | below }`.
fn headcount(
    parent: &Table<'_, '_>,
    key: &'static str,
    v: &Spanned<DeValue<'_>>,
) -> Option<Sp<HeadcountRange>> {
    let d = parent.diags();
    let DeValue::Table(tbl) = v.get_ref() else {
        d.push(
            Diagnostic::new(
                Code::WrongType,
                v.span(),
                format!(
                    "`{}.{key}` must be a table such as {{ at_least = 20, below = 50 }}, found {}",
                    parent.path(),
                    type_name(v.get_ref())
                ),
            )
            .label("expected a headcount range")
            .help("write the bounds explicitly: `at_least`/`more_than` for the lower one, `at_most`/`below` for the upper one"),
        );
        return None;
    };
    let t = Table::new(tbl, v.span(), format!("{}.{key}", parent.path()), d);
    let at_least = t.u32("at_least");
    let more_than = t.u32("more_than");
    let at_most = t.u32("at_most");
    let below = t.u32("below");
    let mut ok = true;
    if let (Some(a), Some(b)) = (&at_least, &more_than) {
        ok = false;
        d.push(
            Diagnostic::new(
                Code::InvalidValue,
                b.span.clone(),
                "a headcount range has two lower bounds",
            )
            .label("`more_than` here")
            .note(a.span.clone(), "`at_least` here")
            .help("keep one: `at_least = N` includes N, `more_than = N` excludes it"),
        );
    }
    if let (Some(a), Some(b)) = (&at_most, &below) {
        ok = false;
        d.push(
            Diagnostic::new(
                Code::InvalidValue,
                b.span.clone(),
                "a headcount range has two upper bounds",
            )
            .label("`below` here")
            .note(a.span.clone(), "`at_most` here")
            .help("keep one: `at_most = N` includes N, `below = N` excludes it"),
        );
    }
    if at_least.is_none()
        && more_than.is_none()
        && at_most.is_none()
        && below.is_none()
        && !t.span().is_empty()
    {
        // Only a table with no keys at all; a bound of the wrong type is reported on its own.
        if tbl.is_empty() {
            ok = false;
            d.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    v.span(),
                    "a headcount range with no bound",
                )
                .label("empty range table")
                .help("give `at_least`/`more_than` and/or `at_most`/`below`"),
            );
        }
    }
    let lower = at_least
        .map(|b| Bound {
            value: b.value,
            inclusive: true,
        })
        .or(more_than.map(|b| Bound {
            value: b.value,
            inclusive: false,
        }));
    let upper = at_most
        .map(|b| Bound {
            value: b.value,
            inclusive: true,
        })
        .or(below.map(|b| Bound {
            value: b.value,
            inclusive: false,
        }));
    t.finish();
    ok.then(|| Sp::new(HeadcountRange { lower, upper }, v.span()))
}

/// Reads a time limit: `"15m"`, `"immediately"`, `{ day = "15m", night = "30m" }` or
/// `{ by = "15:00" }`.
fn limit(
    parent: &Table<'_, '_>,
    key: &'static str,
    v: &Spanned<DeValue<'_>>,
) -> Option<Sp<TimeLimit>> {
    let d = parent.diags();
    let path = format!("{}.{key}", parent.path());
    let bad = |span: Span, msg: String| {
        d.push(
            Diagnostic::new(Code::InvalidValue, span, msg)
                .label("not a time limit")
                .help("write `15m`, `2h`, `1h30m`, `3d`, `immediately`, `{ day = \"15m\", night = \"30m\" }` or `{ by = \"15:00\" }`"),
        );
    };
    match v.get_ref() {
        DeValue::String(s) => match TimeLimit::parse_str(s) {
            Ok(l) => Some(Sp::new(l, v.span())),
            Err(e) => {
                bad(v.span(), e);
                None
            }
        },
        DeValue::Table(tbl) => {
            let t = Table::new(tbl, v.span(), path.clone(), d);
            let minutes = |k: &'static str| -> Option<i64> {
                let s = t.str(k)?;
                match parse_minutes(&s.value) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        bad(s.span, e);
                        None
                    }
                }
            };
            let out = if t.has("by") {
                t.forbid(
                    "day",
                    "cannot be combined with `by`: give either a clock time or day/night durations",
                );
                t.forbid(
                    "night",
                    "cannot be combined with `by`: give either a clock time or day/night durations",
                );
                let s = t.str("by");
                s.and_then(|s| match parse_clock(&s.value) {
                    Ok(c) => Some(TimeLimit::By(c)),
                    Err(e) => {
                        bad(s.span, e);
                        None
                    }
                })
            } else {
                let has_day = t.has("day");
                let has_night = t.has("night");
                let day = minutes("day");
                let night = minutes("night");
                match (day, night) {
                    (Some(day), Some(night)) => Some(TimeLimit::DayNight { day, night }),
                    _ => {
                        if !(has_day && has_night) {
                            d.push(
                                Diagnostic::new(
                                    Code::MissingKey,
                                    v.span(),
                                    format!("`{path}` needs both `day` and `night`, or `by`"),
                                )
                                .label("incomplete time limit"),
                            );
                        }
                        None
                    }
                }
            };
            t.finish();
            out.map(|l| Sp::new(l, v.span()))
        }
        other => {
            d.push(
                Diagnostic::new(
                    Code::WrongType,
                    v.span(),
                    format!(
                        "`{path}` must be a time limit such as \"15m\", found {}",
                        type_name(other)
                    ),
                )
                .label("expected a time limit")
                .help("durations are strings with a unit: `\"15m\"`, `\"2h\"`, `\"3d\"`"),
            );
            None
        }
    }
}

fn req_limit(t: &Table<'_, '_>, key: &'static str) -> Option<Sp<TimeLimit>> {
    if !t.has(key) {
        t.diags().push(
            Diagnostic::new(
                Code::MissingKey,
                t.span().start..t.span().start + 1,
                format!("missing required key `{key}` in `{}`", t.path()),
            )
            .label(format!("`{key}` (a time limit) is required here")),
        );
        return None;
    }
    t.value(key).and_then(|v| limit(t, key, v))
}

fn read_task(t: &Table<'_, '_>, group: Option<Sp<String>>) -> Option<TaskTemplate> {
    let group = match group {
        Some(g) => Some(g),
        None => t.req_str("group"),
    };
    let title = req_title(t, "title", "task title");
    let within = req_limit(t, "within");
    t.finish();
    if let Some(x) = &title {
        scope_item(t.diags(), &[value("task", x)], false);
    }
    Some(TaskTemplate {
        group: group?,
        title: title?.value,
        within: within?,
        span: t.span(),
    })
}

fn read_choices(root: &Table<'_, '_>, key: &'static str) -> Vec<Choice> {
    root.tables(key)
        .into_iter()
        .filter_map(|t| {
            let (id, name) = (
                id_of(&t, "id"),
                req_title(&t, "name", &format!("{} name", key.trim_end_matches('s'))),
            );
            t.finish();
            Some(Choice {
                id: id?,
                name: name.map(|n| n.value).unwrap_or_default(),
            })
        })
        .collect()
}

fn read_level(t: &Table<'_, '_>) -> Option<Level> {
    let d = t.diags();
    let id = id_of(t, "id");
    let name = req_title(t, "name", "level name");
    let colour = t.str("colour").and_then(|c| match Colour::parse(&c.value) {
        Some(c) => Some(c),
        None => {
            d.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    c.span,
                    format!("`{}` is not a warning colour", c.value),
                )
                .label("unknown colour")
                .help("use red, orange, yellow or blue (红/橙/黄/蓝)"),
            );
            None
        }
    });
    let when = t
        .tables("when")
        .into_iter()
                .map(|r| {
            let rule = Rule {
                span: r.span(),
                headcount: r.value("headcount").and_then(|v| headcount(&r, "headcount", v)),
                venues: r.str_list("venue"),
                behaviours: r.str_list("behaviour"),
            };
            if !r.has("headcount") && !r.has("venue") && !r.has("behaviour") {
                d.push(
                    Diagnostic::new(Code::MissingKey, r.span(), format!("`{}` has no condition", r.path()))
                        .label("a rule needs `headcount`, `venue` or `behaviour`")
                        .help("a rule with no condition would match every report; for a level chosen by a person use judgement_only = true"),
                );
            }
            r.finish();
            rule
        })
        .collect();
    let tasks = t
        .tables("tasks")
        .into_iter()
        .filter_map(|tt| read_task(&tt, None))
        .collect();
    let reports = t
        .tables("reports")
        .into_iter()
        .filter_map(|rt| {
            let kind = rt
                .req_str("kind")
                .and_then(|k| match ReportKind::parse(&k.value) {
                    Some(k) => Some(k),
                    None => {
                        d.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                k.span,
                                format!("`{}` is not a report kind", k.value),
                            )
                            .label("unknown kind")
                            .help("use first (首报), follow-up (续报) or final (终报)"),
                        );
                        None
                    }
                });
            let to = rt.req_str("to");
            let within = req_limit(&rt, "within");
            let every = rt.value("every").and_then(|v| limit(&rt, "every", v));
            if let Some(e) = &every
                && !matches!(e.value, TimeLimit::Within(_))
            {
                d.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        e.span.clone(),
                        "`every` must be a plain duration such as \"2h\"",
                    )
                    .label("not a duration"),
                );
            }
            let by = rt.str("by");
            let fields = rt.str_list("fields");
            let values: Vec<scope::Value<'_>> = fields
                .iter()
                .map(|f| value("upward report field", f))
                .collect();
            scope_item(d, &values, true);
            let fields = fields.into_iter().map(|f| f.value).collect();
            let deliver_to = rt.str("deliver_to");
            rt.finish();
            Some(ReportDue {
                kind: kind?,
                to: to?.value,
                by,
                within: within?,
                every,
                fields,
                deliver_to,
                span: rt.span(),
            })
        })
        .collect();
    let coercive_steps = t
        .tables("coercive_steps")
        .into_iter()
        .filter_map(|ct| {
            let step = id_of(&ct, "step");
            let name = req_title(&ct, "name", "coercive step name");
            let approver = ct.req_str("approver");
            let consultation = ct.str("consultation");
            ct.finish();
            let values: Vec<scope::Value<'_>> = name
                .iter()
                .map(|n| value("coercive step", n))
                .chain(step.iter().map(|s| value("coercive step id", s)))
                .collect();
            scope_item(d, &values, false);
            Some(CoerciveStep {
                step: step?,
                name: name.map(|n| n.value).unwrap_or_default(),
                approver: approver?,
                consultation,
            })
        })
        .collect();
    let judgement = text(t, "judgement");
    let judgement_only = t.bool("judgement_only").is_some_and(|b| b.value);
    let description = text(t, "description");
    let extends = t.str("extends");
    let commander = t.str_list("commander");
    let deputies = t.str_list("deputies");
    let groups = t.str_list("groups");
    let parent_called = t.bool("parent_called").map(|b| b.value);
    t.finish();
    Some(Level {
        id: id?,
        name: name.map(|n| n.value).unwrap_or_default(),
        colour,
        judgement,
        judgement_only,
        description,
        when,
        extends,
        commander,
        deputies,
        groups,
        tasks,
        reports,
        coercive_steps,
        parent_called,
        span: t.span(),
    })
}

fn read_field(t: &Table<'_, '_>) -> Option<IntakeField> {
    let d = t.diags();
    let id = id_of(t, "id");
    let label = req_title(t, "label", "intake field label");
    let kind = t.str("kind");
    let kind = match kind {
        None => Some(FieldKind::Text),
        Some(k) => match FieldKind::parse(&k.value) {
            Some(k) => Some(k),
            None => {
                d.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        k.span,
                        format!("`{}` is not a field kind", k.value),
                    )
                    .label("unknown kind")
                    .help("use text, long_text, integer, datetime, choice, headcount, venue or behaviours"),
                );
                None
            }
        },
    };
    let options = t.str_list("options");
    let values: Vec<scope::Value<'_>> = label
        .iter()
        .map(|l| value("intake field", l))
        .chain(id.iter().map(|i| value("intake field id", i)))
        .chain(options.iter().map(|o| value("intake field option", o)))
        .collect();
    scope_item(d, &values, true);
    let options: Vec<String> = options.into_iter().map(|o| o.value).collect();
    if kind.is_some_and(|k| k != FieldKind::Choice) && !options.is_empty() {
        t.forbid("options", "is only for fields of kind `choice`");
    }
    if kind == Some(FieldKind::Choice) && options.is_empty() {
        d.push(
            Diagnostic::new(
                Code::MissingKey,
                t.span(),
                format!("`{}` is a choice field without `options`", t.path()),
            )
            .label("add options = [\"…\", \"…\"]"),
        );
    }
    let required = t.bool("required").is_none_or(|b| b.value);
    let help = text(t, "help");
    let personal = t.bool("personal").is_some_and(|b| b.value);
    if personal && kind.is_some_and(|k| !matches!(k, FieldKind::Text | FieldKind::LongText)) {
        t.forbid(
            "personal",
            "is only for fields of kind `text` or `long_text`",
        );
    }
    t.finish();
    Some(IntakeField {
        id: id?,
        label: label?.value,
        kind: kind?,
        required,
        options,
        help,
        personal,
    })
}

fn read_period(t: &Table<'_, '_>) -> Option<SpecialPeriod> {
    let d = t.diags();
    let id = id_of(t, "id");
    let name = req_title(t, "name", "special period name");
    let windows: Vec<(jiff::civil::Date, jiff::civil::Date)> = t
        .tables("windows")
        .into_iter()
        .filter_map(|w| {
            let from = w.req_date("from");
            let to = w.req_date("to");
            w.finish();
            let (from, to) = (from?, to?);
            if to.value < from.value {
                d.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        to.span.clone(),
                        format!(
                            "the window ends ({}) before it starts ({})",
                            to.value, from.value
                        ),
                    )
                    .label("end before start")
                    .note(from.span, "starts here"),
                );
                return None;
            }
            Some((from.value, to.value))
        })
        .collect();
    if windows.is_empty() {
        d.push(
            Diagnostic::new(
                Code::MissingKey,
                t.span().start..t.span().start + 1,
                format!(
                    "`{}` needs at least one window {{ from = …, to = … }}",
                    t.path()
                ),
            )
            .label("no date window"),
        );
    }
    t.finish();
    Some(SpecialPeriod {
        id: id?,
        name: name.map(|n| n.value).unwrap_or_default(),
        windows,
    })
}

fn weekday(s: &str) -> Option<jiff::civil::Weekday> {
    use jiff::civil::Weekday::*;
    Some(match s {
        "monday" => Monday,
        "tuesday" => Tuesday,
        "wednesday" => Wednesday,
        "thursday" => Thursday,
        "friday" => Friday,
        "saturday" => Saturday,
        "sunday" => Sunday,
        _ => return None,
    })
}

fn read_schedule(t: &Table<'_, '_>) -> Option<Schedule> {
    let d = t.diags();
    let id = id_of(t, "id");
    let name = req_title(t, "name", "schedule name");
    let from = t.str_list("from");
    if from.is_empty() {
        d.push(
            Diagnostic::new(
                Code::MissingKey,
                t.span().start..t.span().start + 1,
                format!("missing required key `from` in `{}`", t.path()),
            )
            .label("who submits this report?"),
        );
    }
    let to = t.req_str("to");
    let mut times = Vec::new();
    let at = t.str_list("at");
    if at.is_empty() {
        d.push(
            Diagnostic::new(
                Code::MissingKey,
                t.span().start..t.span().start + 1,
                format!(
                    "`{}` needs `at`: the time(s) of day the report is due",
                    t.path()
                ),
            )
            .label("e.g. at = \"15:00\" or at = [\"07:00\", \"13:00\"]"),
        );
    }
    for a in at {
        match parse_clock(&a.value) {
            Ok(c) => {
                if times.contains(&c) {
                    d.push(
                        Diagnostic::new(
                            Code::DuplicateId,
                            a.span,
                            format!("`{}` is listed twice", a.value),
                        )
                        .label("duplicate time"),
                    );
                } else {
                    times.push(c);
                }
            }
            Err(e) => d.push(Diagnostic::new(Code::InvalidValue, a.span, e).label("not HH:MM")),
        }
    }
    times.sort();
    let every = t.req_str("every");
    let kind = every.as_ref().map(|e| e.value.clone()).unwrap_or_default();
    if kind != "week" {
        t.forbid("weekday", "is only for schedules with every = \"week\"");
    }
    if kind != "month" {
        t.forbid(
            "day_of_month",
            "is only for schedules with every = \"month\"",
        );
    }
    let recurrence = every.and_then(|e| match e.value.as_str() {
        "day" => Some(Recurrence::Daily(times.clone())),
        "week" => {
            let wd = t.req_str("weekday")?;
            match weekday(&wd.value) {
                Some(w) => Some(Recurrence::Weekly(w, times.clone())),
                None => {
                    d.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            wd.span,
                            format!("`{}` is not a weekday", wd.value),
                        )
                        .label("unknown weekday")
                        .help("use monday … sunday"),
                    );
                    None
                }
            }
        }
        "month" => {
            let day = t.u32("day_of_month");
            match day {
                Some(x) if (1..=31).contains(&x.value) => {
                    Some(Recurrence::Monthly(x.value as i8, times.clone()))
                }
                Some(x) => {
                    d.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            x.span,
                            "`day_of_month` must be from 1 to 31",
                        )
                        .label("out of range"),
                    );
                    None
                }
                None => {
                    if !t.has("day_of_month") {
                        d.push(
                            Diagnostic::new(
                                Code::MissingKey,
                                e.span,
                                "a monthly schedule needs `day_of_month`",
                            )
                            .label("monthly"),
                        );
                    }
                    None
                }
            }
        }
        other => {
            d.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    e.span,
                    format!("`{other}` is not a schedule"),
                )
                .label("unknown recurrence")
                .help("use day, week or month"),
            );
            None
        }
    });
    let nil_allowed = t.bool("nil_allowed").is_none_or(|b| b.value);
    let period = t.str("period");
    let fields = t.str_list("fields");
    let values: Vec<scope::Value<'_>> = name
        .iter()
        .map(|n| value("schedule", n))
        .chain(id.iter().map(|i| value("schedule id", i)))
        .chain(fields.iter().map(|f| value("schedule field", f)))
        .collect();
    scope_item(d, &values, true);
    let fields = fields.into_iter().map(|f| f.value).collect();
    t.finish();
    Some(Schedule {
        id: id?,
        name: name.map(|n| n.value).unwrap_or_default(),
        from,
        to: to?,
        recurrence: recurrence?,
        nil_allowed,
        period,
        fields,
    })
}

fn read_cadence(t: &Table<'_, '_>) -> Option<Cadence> {
    let d = t.diags();
    let every = t.req_str("every");
    let note = text(t, "note");
    t.finish();
    let every = every?;
    match Every::parse(&every.value) {
        Some(e) => Some(Cadence { every: e, note }),
        None => {
            d.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    every.span,
                    format!("`{}` is not a cadence", every.value),
                )
                .label("unknown cadence")
                .help("use month, quarter, half-year, year, two-years, three-years or as-required"),
            );
            None
        }
    }
}
