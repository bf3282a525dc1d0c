//! Incident statistics: incidents of a period in a subtree, counted by level, month,
//! jurisdiction and kind (the workbooks and the statistics page read these; petition case
//! statistics are [`crate::cases::stats`]).
//!
//! What is counted: incident reports and early signs (苗头). Drills are left out, and so are
//! the linked records an escalation creates in a parent (the event is counted once, where it
//! happened). Reports found unfounded are counted apart. Months are local months in China
//! Standard Time, like the petition statistics' quarters of acceptance. Nothing here counts
//! petitioners or scores a unit on petitions prevented (design/product.md).

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_store::{JurisdictionRow, fmt_ts};

use crate::{Actor, App, AppError, ErrorCode, Permission};

/// The zone months and quarters are counted in.
pub fn zone() -> TimeZone {
    TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC)
}

/// A statistics period: a year, or one quarter of it, in a jurisdiction (default: the
/// actor's own).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PeriodQuery {
    pub jurisdiction_id: Option<Uuid>,
    pub year: i16,
    /// 1–4; without it the whole year.
    pub quarter: Option<u8>,
}

impl PeriodQuery {
    /// The first and last local day of the period.
    pub fn days(&self) -> Result<(Date, Date), AppError> {
        if !(2000..=2100).contains(&self.year) {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "`year` must be between 2000 and 2100",
            ));
        }
        let (m0, m1) = match self.quarter {
            None => (1, 12),
            Some(q @ 1..=4) => (3 * q as i8 - 2, 3 * q as i8),
            Some(_) => {
                return Err(AppError::new(
                    ErrorCode::InvalidQuery,
                    "`quarter` must be 1–4",
                ));
            }
        };
        let from = Date::new(self.year, m0, 1).map_err(AppError::internal)?;
        let to = Date::new(self.year, m1, 1)
            .map_err(AppError::internal)?
            .last_of_month();
        Ok((from, to))
    }

    /// `2026`, or `2026Q3`.
    pub fn label(&self) -> String {
        match self.quarter {
            Some(q) => format!("{}Q{q}", self.year),
            None => self.year.to_string(),
        }
    }
}

/// One group of incident counts.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq, Eq)]
pub struct IncidentGroup {
    /// The group: a level id (empty before assessment), a month `YYYY-MM`, a jurisdiction's id,
    /// or a kind (`event`, `early_sign`).
    pub key: String,
    /// The jurisdiction's name (by jurisdiction).
    pub name: Option<String>,
    /// Reports and early signs, unfounded ones included.
    pub reported: i64,
    /// Found unfounded on verification.
    pub unfounded: i64,
    /// Whose response was activated at some level (status active or later).
    pub responded: i64,
}

/// Incident statistics of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentStats {
    pub period: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_name: String,
    pub total: IncidentGroup,
    pub by_level: Vec<IncidentGroup>,
    /// Every month of the period, in order (months without incidents too).
    pub by_month: Vec<IncidentGroup>,
    /// The jurisdiction itself and each jurisdiction directly below it (their subtrees).
    pub by_jurisdiction: Vec<IncidentGroup>,
    pub by_kind: Vec<IncidentGroup>,
}

fn add(g: &mut IncidentGroup, status: &str, n: i64) {
    g.reported += n;
    match status {
        "unfounded" => g.unfounded += n,
        "active" | "ended" | "reviewed" | "closed" => g.responded += n,
        _ => {}
    }
}

/// The jurisdiction a statistics read covers (the actor's own by default; in the actor's area
/// and readable with `p`, else not found / forbidden), the period's first and last local day,
/// and its bounds as the store writes times (`[from, to)`).
async fn read_period(
    app: &App,
    actor: &Actor,
    q: &PeriodQuery,
    p: Permission,
) -> Result<(JurisdictionRow, Date, Date, String, String), AppError> {
    let id = q.jurisdiction_id.unwrap_or(actor.jurisdiction_id);
    let scope = app.scoped_jurisdiction(actor, id, "jurisdiction").await?;
    app.require(actor, p, &scope.path, "jurisdiction")?;
    let (first, last) = q.days()?;
    let start = first.to_zoned(zone()).map_err(AppError::internal)?;
    let end = last
        .checked_add(1.day())
        .map_err(AppError::internal)?
        .to_zoned(zone())
        .map_err(AppError::internal)?;
    Ok((
        scope,
        first,
        last,
        fmt_ts(start.timestamp()),
        fmt_ts(end.timestamp()),
    ))
}

/// The incident statistics an actor may read.
pub async fn incidents(
    app: &App,
    actor: &Actor,
    q: &PeriodQuery,
) -> Result<IncidentStats, AppError> {
    let (scope, first, last, from, to) =
        read_period(app, actor, q, Permission::ViewIncidents).await?;
    let rows = app.store.incident_counts(&scope.path, &from, &to).await?;
    let tz = zone();
    let mut total = IncidentGroup::default();
    let mut by_level: BTreeMap<String, IncidentGroup> = BTreeMap::new();
    let mut by_month: BTreeMap<String, IncidentGroup> = BTreeMap::new();
    let mut by_child: BTreeMap<String, IncidentGroup> = BTreeMap::new();
    let mut by_kind: BTreeMap<String, IncidentGroup> = BTreeMap::new();
    // Every month of the period has its row, zero or not.
    let mut m = first;
    while m <= last {
        by_month.insert(m.strftime("%Y-%m").to_string(), IncidentGroup::default());
        m = m.checked_add(1.month()).map_err(AppError::internal)?;
    }
    for r in rows {
        if r.kind == "escalation" {
            continue;
        }
        let at: Timestamp = format!("{}:00:00Z", r.hour)
            .parse()
            .map_err(AppError::internal)?;
        let month = at.to_zoned(tz.clone()).strftime("%Y-%m").to_string();
        // The jurisdiction directly below the scope whose subtree the incident is in (or the
        // scope itself).
        let child = r
            .jurisdiction_path
            .strip_prefix(scope.path.as_str())
            .and_then(|rest| rest.split('/').find(|s| !s.is_empty()))
            .unwrap_or("")
            .to_string();
        add(&mut total, &r.status, r.count);
        add(
            by_level.entry(r.level.unwrap_or_default()).or_default(),
            &r.status,
            r.count,
        );
        add(by_month.entry(month).or_default(), &r.status, r.count);
        add(by_child.entry(child).or_default(), &r.status, r.count);
        add(by_kind.entry(r.kind).or_default(), &r.status, r.count);
    }
    let keyed = |m: BTreeMap<String, IncidentGroup>| -> Vec<IncidentGroup> {
        m.into_iter()
            .map(|(k, mut g)| {
                g.key = k;
                g
            })
            .collect()
    };
    let mut jurisdictions = vec![];
    for (k, mut g) in by_child {
        if k.is_empty() {
            g.key = scope.id.to_string();
            g.name = Some(scope.name.clone());
        } else {
            let id = Uuid::parse_str(&k).ok();
            g.name = match id {
                Some(id) => app.store.jurisdiction(id).await?.map(|j| j.name),
                None => None,
            };
            g.key = k;
        }
        jurisdictions.push(g);
    }
    total.key = "total".into();
    Ok(IncidentStats {
        period: q.label(),
        from: first.to_string(),
        to: last.to_string(),
        jurisdiction_id: scope.id,
        jurisdiction_name: scope.name.clone(),
        total,
        by_level: keyed(by_level),
        by_month: keyed(by_month),
        by_jurisdiction: jurisdictions,
        by_kind: keyed(by_kind),
    })
}

/// One screening round of the period: how many units owed a return, how many returned (nil
/// or with disputes found), how many did not.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundLine {
    pub round_id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_name: String,
    /// `monthly` or `daily`.
    pub cadence: String,
    /// The round's period (`2026-03`, `2026-03-02`).
    pub round_key: String,
    pub units: i64,
    pub returned: i64,
    pub nil: i64,
    pub missing: i64,
    pub disputes_found: i64,
}

/// Screening rounds of a period (004-B: the monthly screening, daily in special periods) and
/// how completely the units returned.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScreeningStats {
    pub period: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_name: String,
    pub rounds: Vec<RoundLine>,
    /// The sums over the rounds (`round_key` empty).
    pub total: RoundLine,
    /// returned / units, null without rounds.
    pub return_rate: Option<f64>,
}

/// The screening statistics an actor may read (`view_disputes`).
pub async fn screening(
    app: &App,
    actor: &Actor,
    q: &PeriodQuery,
) -> Result<ScreeningStats, AppError> {
    let (scope, first, last, from, to) =
        read_period(app, actor, q, Permission::ViewDisputes).await?;
    let rounds = app.store.rounds_opened(&scope.path, &from, &to).await?;
    let mut names: BTreeMap<Uuid, String> = BTreeMap::new();
    let mut lines = vec![];
    let mut total = RoundLine {
        round_id: Uuid::nil(),
        jurisdiction_id: scope.id,
        jurisdiction_name: scope.name.clone(),
        cadence: String::new(),
        round_key: String::new(),
        units: 0,
        returned: 0,
        nil: 0,
        missing: 0,
        disputes_found: 0,
    };
    for r in rounds {
        let units = app.store.child_jurisdictions(r.jurisdiction_id).await?;
        let subs = app.store.screening_submissions(r.id).await?;
        let of_units: Vec<_> = subs
            .iter()
            .filter(|s| units.iter().any(|(u, _)| *u == s.unit_id))
            .collect();
        let name = match names.get(&r.jurisdiction_id) {
            Some(n) => n.clone(),
            None => {
                let n = app
                    .store
                    .jurisdiction(r.jurisdiction_id)
                    .await?
                    .map(|j| j.name)
                    .unwrap_or_default();
                names.insert(r.jurisdiction_id, n.clone());
                n
            }
        };
        let line = RoundLine {
            round_id: r.id,
            jurisdiction_id: r.jurisdiction_id,
            jurisdiction_name: name,
            cadence: r.cadence,
            round_key: r.round_key,
            units: units.len() as i64,
            returned: of_units.len() as i64,
            nil: of_units.iter().filter(|s| s.nil).count() as i64,
            missing: (units.len() - of_units.len()) as i64,
            disputes_found: of_units.iter().map(|s| s.disputes_found).sum(),
        };
        total.units += line.units;
        total.returned += line.returned;
        total.nil += line.nil;
        total.missing += line.missing;
        total.disputes_found += line.disputes_found;
        lines.push(line);
    }
    Ok(ScreeningStats {
        period: q.label(),
        from: first.to_string(),
        to: last.to_string(),
        jurisdiction_id: scope.id,
        jurisdiction_name: scope.name.clone(),
        return_rate: (total.units > 0).then(|| total.returned as f64 / total.units as f64),
        rounds: lines,
        total,
    })
}

/// One party's scheduled reports (定时报告, 零报告) of a plan's schedule in the period: the
/// slots that fell due, those in on time (a nil report among them), late, and never sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportLine {
    pub plan_id: String,
    pub plan_title: String,
    pub schedule_name: String,
    pub party_name: String,
    /// Slots due (a slot not yet due and not yet in is not counted).
    pub owed: i64,
    pub on_time: i64,
    pub nil: i64,
    pub late: i64,
    pub missing: i64,
}

/// Scheduled-report compliance of a period: each party of each schedule of the plans owned in
/// the jurisdiction and below (newest versions), day by day up to today, as the plans' boards
/// show them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportStats {
    pub period: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_name: String,
    pub lines: Vec<ReportLine>,
    /// The sums (names empty).
    pub total: ReportLine,
}

/// The scheduled-report statistics an actor may read (`view_reports`).
pub async fn reports(app: &App, actor: &Actor, q: &PeriodQuery) -> Result<ReportStats, AppError> {
    use yingji_domain::reports::BoardState;
    let (scope, first, last, _, _) = read_period(app, actor, q, Permission::ViewReports).await?;
    let now = app.clock.now();
    let mut seen = std::collections::HashSet::new();
    let mut lines: BTreeMap<(String, String, String), ReportLine> = BTreeMap::new();
    for row in app.store.list_plans(&scope.path).await? {
        if !seen.insert(row.plan_id.clone()) {
            continue; // newest version first
        }
        let plan = app.plan(&row.plan_id, row.version).await?;
        if plan.schedules.is_empty() {
            continue;
        }
        let Some(owner) = app.store.jurisdiction(row.jurisdiction_id).await? else {
            continue;
        };
        if !owner.path.starts_with(&scope.path)
            || !actor.may(app, Permission::ViewReports, &owner.path)
        {
            continue;
        }
        let today = now.to_zoned(plan.time.tz.clone()).date();
        let mut day = first;
        while day <= last.min(today) {
            for r in crate::reports::board_of(app, &row, &plan, &owner, day, now).await? {
                if r.state == BoardState::Pending {
                    continue;
                }
                let l = lines
                    .entry((
                        row.plan_id.clone(),
                        r.schedule_name.clone(),
                        r.party_name.clone(),
                    ))
                    .or_insert_with(|| ReportLine {
                        plan_id: row.plan_id.clone(),
                        plan_title: plan.meta.title.clone(),
                        schedule_name: r.schedule_name.clone(),
                        party_name: r.party_name.clone(),
                        owed: 0,
                        on_time: 0,
                        nil: 0,
                        late: 0,
                        missing: 0,
                    });
                l.owed += 1;
                match r.state {
                    BoardState::Submitted => l.on_time += 1,
                    BoardState::Nil => {
                        l.on_time += 1;
                        l.nil += 1;
                    }
                    BoardState::SubmittedLate => l.late += 1,
                    BoardState::Late => l.missing += 1,
                    BoardState::Pending => {}
                }
            }
            day = day.checked_add(1.day()).map_err(AppError::internal)?;
        }
    }
    let lines: Vec<ReportLine> = lines.into_values().collect();
    let mut total = ReportLine {
        plan_id: String::new(),
        plan_title: String::new(),
        schedule_name: String::new(),
        party_name: String::new(),
        owed: 0,
        on_time: 0,
        nil: 0,
        late: 0,
        missing: 0,
    };
    for l in &lines {
        total.owed += l.owed;
        total.on_time += l.on_time;
        total.nil += l.nil;
        total.late += l.late;
        total.missing += l.missing;
    }
    Ok(ReportStats {
        period: q.label(),
        from: first.to_string(),
        to: last.to_string(),
        jurisdiction_id: scope.id,
        jurisdiction_name: scope.name.clone(),
        lines,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_a_year_or_a_quarter_of_local_days() {
        let q = |quarter| PeriodQuery {
            jurisdiction_id: None,
            year: 2026,
            quarter,
        };
        assert_eq!(
            q(None).days().unwrap(),
            (
                Date::new(2026, 1, 1).unwrap(),
                Date::new(2026, 12, 31).unwrap()
            )
        );
        assert_eq!(
            q(Some(1)).days().unwrap(),
            (
                Date::new(2026, 1, 1).unwrap(),
                Date::new(2026, 3, 31).unwrap()
            )
        );
        assert_eq!(q(Some(1)).label(), "2026Q1");
        assert_eq!(q(Some(5)).days().unwrap_err().code, ErrorCode::InvalidQuery);
    }
}
