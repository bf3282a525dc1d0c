//! Statistics as files: the petition case statistics (004-C 第十条: received, by channel and
//! category, on time, overdue, extended, replied, satisfaction; per jurisdiction and
//! department) and the incident statistics (by level, month, jurisdiction and type), as an
//! .xlsx workbook (one sheet per grouping and a sheet that states the period, the scope and
//! the source) or one grouping as CSV. Headers come from the message catalogue; figures are
//! numbers, never text.

use yingji_app::cases::{CaseStats, StatsItem};
use yingji_app::statistics::{IncidentGroup, IncidentStats, ReportStats, ScreeningStats};
use yingji_docs::xlsx::{Cell, Sheet, Workbook};

use crate::pages::Lang;

/// The case groupings, in the workbook's order.
pub const CASE_BY: &[&str] = &["total", "jurisdiction", "department", "category", "channel"];

/// The incident groupings, in the workbook's order.
pub const INCIDENT_BY: &[&str] = &["level", "month", "jurisdiction", "kind"];

fn rate(n: i64, d: i64) -> Cell {
    if d > 0 {
        Cell::Number((n as f64 / d as f64 * 10_000.0).round() / 10_000.0)
    } else {
        Cell::Empty
    }
}

/// A case group's label: the total, a jurisdiction's name, a channel or category from the
/// catalogue, or the department as recorded.
fn case_label(l: &Lang, by: &str, it: &StatsItem) -> String {
    let key = it.key.clone().unwrap_or_default();
    match by {
        "total" => l.t("stats.total").to_string(),
        "jurisdiction" => it.name.clone().unwrap_or(key),
        "channel" => l.tk("channel", &key),
        "category" => l.tk("category", &key),
        _ if key.is_empty() => l.t("stats.no_department").to_string(),
        _ => key,
    }
}

/// One grouping of the case statistics as rows: a header row, then one row per group.
pub fn case_rows(l: &Lang, stats: &CaseStats) -> Vec<Vec<Cell>> {
    let mut rows = vec![
        [
            "stats.group",
            "stats.received",
            "stats.replied",
            "stats.on_time",
            "stats.overdue",
            "stats.extended",
            "stats.satisfied",
            "stats.basically_satisfied",
            "stats.dissatisfied",
            "stats.on_time_rate",
            "stats.rate",
        ]
        .iter()
        .map(|k| Cell::Text(l.t(k).to_string()))
        .collect::<Vec<_>>(),
    ];
    for it in &stats.items {
        let s = &it.satisfaction;
        rows.push(vec![
            Cell::Text(case_label(l, &stats.by, it)),
            Cell::Int(it.received),
            Cell::Int(it.replied),
            Cell::Int(it.on_time),
            Cell::Int(it.overdue),
            Cell::Int(it.extended),
            Cell::Int(s.satisfied),
            Cell::Int(s.basically_satisfied),
            Cell::Int(s.dissatisfied),
            rate(it.on_time, it.replied),
            rate(
                s.satisfied + s.basically_satisfied,
                s.satisfied + s.basically_satisfied + s.dissatisfied,
            ),
        ]);
    }
    rows
}

fn about(l: &Lang, period: &str, scope: &str, source: &str, notes: &str, at: &str) -> Sheet {
    let row = |k: &str, v: &str| vec![Cell::Text(l.t(k).to_string()), Cell::Text(v.into())];
    Sheet {
        name: l.t("stats.about").to_string(),
        rows: vec![
            row("stats.about_period", period),
            row("stats.about_scope", scope),
            row("stats.about_source", l.t(source)),
            row("stats.about_notes", l.t(notes)),
            row("stats.about_generated", at),
        ],
        header_rows: 0,
        widths: vec![16.0, 100.0],
    }
}

fn widths(n: usize) -> Vec<f64> {
    let mut w = vec![24.0];
    w.extend(std::iter::repeat_n(12.0, n.saturating_sub(1)));
    w
}

/// The case statistics workbook: the about sheet, then one sheet per grouping.
pub fn case_workbook(
    l: &Lang,
    period: &str,
    scope: &str,
    generated_at: &str,
    groupings: &[CaseStats],
) -> Workbook {
    let mut sheets = vec![about(
        l,
        period,
        scope,
        "stats.source_cases",
        "stats.notes_cases",
        generated_at,
    )];
    for s in groupings {
        let rows = case_rows(l, s);
        sheets.push(Sheet {
            name: l.t(&format!("stats.by_{}", s.by)).to_string(),
            widths: widths(rows[0].len()),
            rows,
            header_rows: 1,
        });
    }
    Workbook { sheets }
}

/// An incident group's label.
fn incident_label(l: &Lang, by: &str, g: &IncidentGroup) -> String {
    match by {
        "jurisdiction" => g.name.clone().unwrap_or_else(|| g.key.clone()),
        "kind" => l.tk("kind", &g.key),
        "level" if g.key.is_empty() => l.t("stats.no_level").to_string(),
        _ => g.key.clone(),
    }
}

/// The groups of one incident grouping.
pub fn incident_groups<'a>(s: &'a IncidentStats, by: &str) -> &'a [IncidentGroup] {
    match by {
        "level" => &s.by_level,
        "month" => &s.by_month,
        "jurisdiction" => &s.by_jurisdiction,
        _ => &s.by_kind,
    }
}

/// One grouping of the incident statistics as rows (a header row, the groups, the total).
pub fn incident_rows(l: &Lang, s: &IncidentStats, by: &str) -> Vec<Vec<Cell>> {
    let mut rows = vec![
        [
            "stats.group",
            "stats.reported",
            "stats.unfounded",
            "stats.responded",
        ]
        .iter()
        .map(|k| Cell::Text(l.t(k).to_string()))
        .collect::<Vec<_>>(),
    ];
    let row = |label: String, g: &IncidentGroup| {
        vec![
            Cell::Text(label),
            Cell::Int(g.reported),
            Cell::Int(g.unfounded),
            Cell::Int(g.responded),
        ]
    };
    for g in incident_groups(s, by) {
        rows.push(row(incident_label(l, by, g), g));
    }
    rows.push(row(l.t("stats.total").to_string(), &s.total));
    rows
}

/// The incident statistics workbook.
pub fn incident_workbook(l: &Lang, s: &IncidentStats, generated_at: &str) -> Workbook {
    let period = format!("{} – {}", s.from, s.to);
    let mut sheets = vec![about(
        l,
        &period,
        &s.jurisdiction_name,
        "stats.source_incidents",
        "stats.notes_incidents",
        generated_at,
    )];
    for by in INCIDENT_BY {
        let rows = incident_rows(l, s, by);
        sheets.push(Sheet {
            name: l.t(&format!("stats.by_{by}")).to_string(),
            widths: widths(rows[0].len()),
            rows,
            header_rows: 1,
        });
    }
    Workbook { sheets }
}

/// The screening rounds as rows (a header row, one row per round, the total).
pub fn screening_rows(l: &Lang, s: &ScreeningStats) -> Vec<Vec<Cell>> {
    let mut rows = vec![
        [
            "stats.jurisdiction",
            "stats.round",
            "stats.cadence",
            "stats.units",
            "stats.returned",
            "stats.nil",
            "stats.missing",
            "stats.disputes_found",
            "stats.return_rate",
        ]
        .iter()
        .map(|k| Cell::Text(l.t(k).to_string()))
        .collect::<Vec<_>>(),
    ];
    let row =
        |name: String, key: String, cadence: String, r: &yingji_app::statistics::RoundLine| {
            vec![
                Cell::Text(name),
                Cell::Text(key),
                Cell::Text(cadence),
                Cell::Int(r.units),
                Cell::Int(r.returned),
                Cell::Int(r.nil),
                Cell::Int(r.missing),
                Cell::Int(r.disputes_found),
                rate(r.returned, r.units),
            ]
        };
    for r in &s.rounds {
        rows.push(row(
            r.jurisdiction_name.clone(),
            r.round_key.clone(),
            l.tk("cadence", &r.cadence),
            r,
        ));
    }
    rows.push(row(
        l.t("stats.total").to_string(),
        String::new(),
        String::new(),
        &s.total,
    ));
    rows
}

/// A workbook of the about sheet and one sheet of rows (`sheet` is its name's catalogue key).
fn one_sheet(
    l: &Lang,
    (from, to, scope): (&str, &str, &str),
    (source, notes, sheet): (&str, &str, &str),
    rows: Vec<Vec<Cell>>,
    generated_at: &str,
) -> Workbook {
    Workbook {
        sheets: vec![
            about(
                l,
                &format!("{from} – {to}"),
                scope,
                source,
                notes,
                generated_at,
            ),
            Sheet {
                name: l.t(sheet).to_string(),
                widths: widths(rows[0].len()),
                rows,
                header_rows: 1,
            },
        ],
    }
}

/// The screening workbook: the about sheet and the rounds.
pub fn screening_workbook(l: &Lang, s: &ScreeningStats, generated_at: &str) -> Workbook {
    one_sheet(
        l,
        (&s.from, &s.to, &s.jurisdiction_name),
        (
            "stats.source_screening",
            "stats.notes_screening",
            "stats.screening",
        ),
        screening_rows(l, s),
        generated_at,
    )
}

/// The scheduled reports as rows (a header row, one row per plan, schedule and party, the total).
pub fn report_rows(l: &Lang, s: &ReportStats) -> Vec<Vec<Cell>> {
    let mut rows = vec![
        [
            "stats.plan",
            "stats.schedule",
            "stats.party",
            "stats.owed",
            "stats.report_on_time",
            "stats.nil",
            "stats.report_late",
            "stats.missing",
            "stats.report_rate",
        ]
        .iter()
        .map(|k| Cell::Text(l.t(k).to_string()))
        .collect::<Vec<_>>(),
    ];
    let row = |a: String, b: String, c: String, r: &yingji_app::statistics::ReportLine| {
        vec![
            Cell::Text(a),
            Cell::Text(b),
            Cell::Text(c),
            Cell::Int(r.owed),
            Cell::Int(r.on_time),
            Cell::Int(r.nil),
            Cell::Int(r.late),
            Cell::Int(r.missing),
            rate(r.on_time, r.owed),
        ]
    };
    for r in &s.lines {
        rows.push(row(
            r.plan_title.clone(),
            r.schedule_name.clone(),
            r.party_name.clone(),
            r,
        ));
    }
    rows.push(row(
        l.t("stats.total").to_string(),
        String::new(),
        String::new(),
        &s.total,
    ));
    rows
}

/// The scheduled-report workbook: the about sheet and the lines.
pub fn report_workbook(l: &Lang, s: &ReportStats, generated_at: &str) -> Workbook {
    one_sheet(
        l,
        (&s.from, &s.to, &s.jurisdiction_name),
        (
            "stats.source_reports",
            "stats.notes_reports",
            "stats.reports",
        ),
        report_rows(l, s),
        generated_at,
    )
}

/// The media type of an .xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
