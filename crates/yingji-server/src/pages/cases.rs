//! Petition cases: the queue with its clocks (days left — working days where the rules count
//! them —, extended, overdue), the case page (approval chain, routing, supervision steps, reply,
//! timeline) with the actions the viewer may take, and the register form. Everything goes
//! through the application (`yingji_app::cases`): the forms become the API's typed requests,
//! validated by the same `CaseAction::parse` and run as the same commands; an action is offered
//! exactly when the command would be accepted from this viewer now (`cases::Checker`,
//! permission included).
//!
//! Petitioners' contact data is shown masked only (`sealer::mask_phone`, addresses cut short);
//! there is no reveal on these pages.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use yingji_app::cases::{
    CaseAction, CaseActionRequest, Checker, NewCaseRequest, OnCase, PetitionerRequest,
    RegisterCase, load, settings_for,
};
use yingji_app::{AppError, Idem};
use yingji_domain::calendar::{Calendar, DayUnit};
use yingji_domain::case::{
    Case, CaseSettings, ExtensionState, Form as CaseForm, Petitioner, RouteKind, Satisfaction,
};
use yingji_store::CaseFilter;

use super::{
    Chrome, Form, OrPage, PageOut, Posted, Viewer, error_text, hm, may, render, see_other,
};
use crate::AppState;
use crate::api::trust::Permission;
use crate::error::ApiError;
use crate::sealer::mask_phone;

/// A case counts as "due soon" when its last day is this many days away or fewer.
pub const DUE_SOON_DAYS: i64 = 7;

/// The clock of a case as people read it.
pub struct Clock {
    /// "12 working days left", "due today", "overdue by 3 days".
    pub text: String,
    pub overdue: bool,
    pub soon: bool,
    pub extended: bool,
    /// The extension is asked for and not yet decided.
    pub extension_pending: bool,
    pub due_on: String,
}

/// Days from `today` to the last day: working days when the clock counts them, else calendar
/// days; negative (calendar days) once the last day has passed.
pub fn days_left(cal: &Calendar, unit: DayUnit, today: Date, last: Date) -> i64 {
    if last < today {
        return -((today - last).get_days() as i64);
    }
    match unit {
        DayUnit::Calendar => (last - today).get_days() as i64,
        DayUnit::Working => {
            let mut n = 0;
            let mut d = today;
            while d < last {
                d = d.tomorrow().expect("date in range");
                if cal.is_working_day(d) {
                    n += 1;
                }
            }
            n
        }
    }
}

pub fn clock_of(state: &AppState, l: &super::Lang, c: &Case, s: &CaseSettings) -> Clock {
    let now = state.clock.now();
    let today = now.to_zoned(s.tz()).date();
    let unit = c.clock.unit;
    let left = days_left(&state.case_rules.calendar, unit, today, c.due.last_day);
    let open = c.status.open();
    let overdue = open && (c.overdue || now >= c.due_at);
    let text = if !open {
        l.t("case.clock_stopped").to_string()
    } else if overdue {
        l.f1("case.overdue_by", left.unsigned_abs().max(1))
    } else if left == 0 {
        l.t("case.due_today").to_string()
    } else if unit == DayUnit::Working {
        l.f1("case.working_days_left", left)
    } else {
        l.f1("case.days_left", left)
    };
    Clock {
        text,
        overdue,
        soon: open && !overdue && left <= DUE_SOON_DAYS,
        extended: c
            .extension
            .as_ref()
            .is_some_and(|x| x.state == ExtensionState::Approved),
        extension_pending: c
            .extension
            .as_ref()
            .is_some_and(|x| x.state == ExtensionState::Requested),
        due_on: c.due.last_day.to_string(),
    }
}

/// An address for display: its first few characters, the rest hidden.
pub fn mask_address(a: &str) -> String {
    let chars: Vec<char> = a.chars().collect();
    let keep = chars.len().min(3);
    let head: String = chars[..keep].iter().collect();
    format!("{head}{}", "*".repeat(4))
}

// ---------------------------------------------------------------------------------------------
// The queue

pub struct CaseLine {
    pub id: String,
    pub number: String,
    pub title: String,
    pub status: String,
    pub status_id: &'static str,
    pub channel: String,
    pub unit: String,
    pub accepted_on: String,
    pub clock: Clock,
    pub supervision: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
pub struct QueuePage {
    pub p: Chrome,
    /// (value, label, selected)
    pub filters: Vec<(&'static str, String, bool)>,
    pub cases: Vec<CaseLine>,
    pub can_register: bool,
    pub show: &'static str,
    /// With `show=all`: (status, label, selected) and the link to the next page.
    pub statuses: Vec<(&'static str, String, bool)>,
    /// With `show=all`: (id, name, selected) of the jurisdictions, (id, label, selected) of
    /// the categories, and the days accepted from and to.
    pub areas: Vec<(String, String, bool)>,
    pub categories: Vec<(&'static str, String, bool)>,
    pub from: String,
    pub to: String,
    pub older: Option<String>,
}

/// The categories a case is classified in (004-C).
const CATEGORIES: [&str; 3] = ["administrative", "judicial", "other"];

#[derive(Deserialize)]
pub struct QueueQuery {
    show: Option<String>,
    /// With `show=all`: one status (closed ones included).
    status: Option<String>,
    /// With `show=all`: cases older than this one (the next page).
    before: Option<Uuid>,
    /// With `show=all`: one jurisdiction's subtree within the viewer's area.
    jurisdiction: Option<String>,
    /// With `show=all`: one category (行政/司法/其他).
    category: Option<String>,
    /// With `show=all`: accepted on or after this day (YYYY-MM-DD)…
    from: Option<String>,
    /// …and on or before this one.
    to: Option<String>,
}

/// A case decision that waits for the viewer: a proposal (拟办意见) to approve, or an
/// extension request (延期申请) to decide.
pub struct AwaitingDecision {
    /// `case_approval` or `extension`.
    pub kind: &'static str,
    pub id: String,
    pub number: String,
    pub title: String,
    /// The proposal's text, or the days and reason asked.
    pub detail: String,
}

/// The case decisions in the viewer's scope that wait for the viewer's own decision now:
/// those the approve or extension-decision command would accept from them (the post next in
/// the chain, or the extension approver's post, is theirs).
pub async fn awaiting_my_decision(
    state: &AppState,
    v: &Viewer,
) -> Result<Vec<AwaitingDecision>, ApiError> {
    let l = v.lang;
    let mut out = Vec::new();
    if !may(state, v, Permission::ApproveCase, &v.actor.scope_path) {
        return Ok(out);
    }
    for (kind, action) in [
        ("case_approval", "approve"),
        ("extension", "extension-decision"),
    ] {
        let rows = state
            .store
            .list_cases(&CaseFilter {
                scope_path: v.actor.scope_path.clone(),
                status: (kind == "case_approval").then(|| "proposed".into()),
                extension_requested: kind == "extension",
                limit: 50,
                ..Default::default()
            })
            .await?;
        for r in rows {
            let dry = Checker::new(state, &v.actor, r.id).await?;
            let today = state.clock.now().to_zoned(dry.settings().tz()).date();
            let Some(a) = sample(action, None, today) else {
                continue;
            };
            if dry.accepts(&a).await {
                let c = dry.case();
                let detail = if kind == "extension" {
                    c.extension
                        .as_ref()
                        .map(|x| format!("{} · {}", l.f1("time.days", x.days), x.reason))
                        .unwrap_or_default()
                } else {
                    c.proposal.clone().unwrap_or_default()
                };
                out.push(AwaitingDecision {
                    kind,
                    id: c.id.to_string(),
                    number: c.case_number.clone(),
                    title: c.title.clone(),
                    detail,
                });
            }
        }
    }
    Ok(out)
}

/// Which cases: open ones `soon` (due within `DUE_SOON_DAYS` or overdue), `overdue`, `open`
/// (all open), or `all` (closed ones too, newest first, by `status` and before a case id).
pub async fn lines(
    state: &AppState,
    v: &Viewer,
    show: &str,
    limit: i64,
) -> Result<Vec<CaseLine>, ApiError> {
    let all = CaseFilter {
        scope_path: v.actor.scope_path.clone(),
        ..Default::default()
    };
    lines_filtered(state, v, show, all, limit).await
}

/// With `show=all`, `all` narrows the list (area, status, category, days accepted, page).
pub async fn lines_filtered(
    state: &AppState,
    v: &Viewer,
    show: &str,
    all: CaseFilter,
    limit: i64,
) -> Result<Vec<CaseLine>, ApiError> {
    let l = v.lang;
    if !may(state, v, Permission::ViewCases, &v.actor.scope_path) {
        return Ok(Vec::new());
    }
    let now = state.clock.now().as_millisecond();
    // The store selects by due time; the clock (calendar or working days) decides "soon", so
    // the window is wide enough for seven working days across a holiday week.
    let (from, to) = match show {
        "overdue" => (i64::MIN / 2, now),
        "soon" => (i64::MIN / 2, now + (DUE_SOON_DAYS * 2 + 1) * 86_400_000),
        _ => (i64::MIN / 2, i64::MAX / 2),
    };
    let filter = if show == "all" {
        CaseFilter { limit, ..all }
    } else {
        CaseFilter {
            scope_path: v.actor.scope_path.clone(),
            open_due_from_ms: Some(from),
            open_due_to_ms: Some(to),
            limit,
            ..Default::default()
        }
    };
    let rows = state.store.list_cases(&filter).await?;
    let mut out = Vec::new();
    for r in rows {
        let (c, rec) = load(state, &v.actor, r.id).await?;
        let (s, _) = settings_for(state, &rec.jurisdiction_path).await?;
        let clock = clock_of(state, l, &c, &s);
        if show == "soon" && !(clock.soon || clock.overdue) {
            continue;
        }
        out.push(CaseLine {
            id: c.id.to_string(),
            number: c.case_number.clone(),
            title: c.title.clone(),
            status: l.tk("case_status", c.status.as_str()),
            status_id: c.status.as_str(),
            channel: l.tk("channel", c.channel.as_str()),
            unit: c.unit().unwrap_or("").to_string(),
            accepted_on: c.accepted_on.to_string(),
            supervision: c
                .supervision
                .last()
                .map(|x| l.tk("supervision", step_id(x.step)))
                .unwrap_or_default(),
            clock,
        });
    }
    Ok(out)
}

fn step_id(s: yingji_domain::case::SupervisionKind) -> &'static str {
    use yingji_domain::case::SupervisionKind::*;
    match s {
        Chase => "chase",
        ReportDemanded => "report_demanded",
        JointInvestigation => "joint_investigation",
    }
}

pub async fn queue(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<QueueQuery>,
) -> impl IntoResponse {
    let l = v.lang;
    let show = match q.show.as_deref() {
        Some("soon") => "soon",
        Some("overdue") => "overdue",
        Some("all") => "all",
        _ => "open",
    };
    const STATUSES: [&str; 6] = [
        "registered",
        "proposed",
        "approved",
        "handling",
        "replied",
        "closed",
    ];
    let status = q.status.clone().filter(|s| STATUSES.contains(&s.as_str()));
    let r = async {
        let limit = if show == "all" { 50 } else { 200 };
        let nonempty = |x: &Option<String>| {
            x.as_deref()
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
        };
        let chosen = nonempty(&q.jurisdiction).and_then(|j| j.parse::<Uuid>().ok());
        let (scope_path, chosen) = super::area_path(&state, &v, chosen).await?;
        let category = nonempty(&q.category).filter(|c| CATEGORIES.contains(&c.as_str()));
        let day =
            |x: &Option<String>| nonempty(x).filter(|d| d.parse::<jiff::civil::Date>().is_ok());
        let (from, to) = (day(&q.from), day(&q.to));
        let all = CaseFilter {
            scope_path,
            status: status.clone(),
            before: q.before,
            category: category.clone(),
            accepted_from: from.clone(),
            accepted_to: to.clone(),
            ..Default::default()
        };
        let cases = lines_filtered(&state, &v, show, all, limit).await?;
        let older = (show == "all" && cases.len() as i64 == limit).then(|| {
            let last = cases.last().map(|c| c.id.clone()).unwrap_or_default();
            let mut s = form_urlencoded::Serializer::new(String::new());
            s.append_pair("show", "all");
            for (k, val) in [
                ("status", status.clone()),
                ("jurisdiction", chosen.map(|c| c.to_string())),
                ("category", category.clone()),
                ("from", from.clone()),
                ("to", to.clone()),
            ] {
                if let Some(val) = val {
                    s.append_pair(k, &val);
                }
            }
            s.append_pair("before", &last);
            format!("/cases?{}", s.finish())
        });
        let areas = if show == "all" {
            super::area_options(&state, &v, chosen).await?
        } else {
            Vec::new()
        };
        let categories = CATEGORIES
            .iter()
            .map(|c| (*c, l.tk("category", c), category.as_deref() == Some(*c)))
            .collect();
        let statuses = STATUSES
            .iter()
            .map(|s| (*s, l.tk("case_status", s), status.as_deref() == Some(*s)))
            .collect();
        let filters = ["soon", "overdue", "open", "all"]
            .into_iter()
            .map(|f| (f, l.t(&format!("cases.show_{f}")).to_string(), f == show))
            .collect();
        let mut p = Chrome::new(&v, "cases", l.t("cases.title").to_string());
        p.live = "*".into();
        Ok::<_, ApiError>(QueuePage {
            p,
            filters,
            cases,
            can_register: may(&state, &v, Permission::RegisterCase, &v.actor.scope_path),
            show,
            statuses,
            areas,
            categories,
            from: from.unwrap_or_default(),
            to: to.unwrap_or_default(),
            older,
        })
    }
    .await;
    PageOut(r.or_page(l).map(|p| render(&p)))
}

// ---------------------------------------------------------------------------------------------
// The case page

pub struct ApprovalView {
    pub post: String,
    pub done: Option<String>,
    pub note: String,
    /// Who holds the post now (for a step not yet taken).
    pub holders: String,
}

pub struct StepView {
    pub label: String,
    pub when: String,
    pub done: Option<String>,
}

pub struct PetitionerView {
    pub name: String,
    pub contact: String,
    pub address: String,
}

pub use super::EventView;

/// Which actions the page offers (each accepted by `decide` for this viewer now).
#[derive(Default)]
pub struct CaseAllowed {
    pub classify: bool,
    pub propose: bool,
    pub approve: bool,
    pub route: bool,
    /// Set the leader who owns the case (包案领导).
    pub lead: bool,
    /// Link a repeated petition (another case) to this one.
    pub link: bool,
    /// Supervise by hand (督办).
    pub supervise: bool,
    pub extension_request: bool,
    pub extension_decision: bool,
    pub reply: bool,
    pub follow_up: bool,
}

impl CaseAllowed {
    pub fn any(&self) -> bool {
        self.classify
            || self.propose
            || self.approve
            || self.route
            || self.lead
            || self.link
            || self.supervise
            || self.extension_request
            || self.extension_decision
            || self.reply
            || self.follow_up
    }
}

#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    pub p: Chrome,
    pub id: String,
    pub c: Case,
    pub status: String,
    pub channel: String,
    pub form: String,
    pub category: String,
    pub clock: Clock,
    pub received: String,
    pub petitioners: Vec<PetitionerView>,
    pub approvals: Vec<ApprovalView>,
    pub routing: Option<(String, String, String)>,
    pub child_case: Option<String>,
    pub origin: Option<(String, String)>,
    pub extension: Option<(u32, String, String, String)>,
    pub lead: String,
    pub steps: Vec<StepView>,
    /// Supervision by hand: (step, who, when, what was asked).
    pub supervised_by_hand: Vec<(String, String, String, String)>,
    pub reply: Option<(String, String, String, bool)>,
    pub follow_up: Option<(String, String)>,
    pub timeline: Vec<EventView>,
    pub allowed: CaseAllowed,
    /// The jurisdictions directly below the case's, to refer it to (转交): (id, name).
    pub refer_to: Vec<(String, String)>,
    /// The people of the case's jurisdiction, to choose the leader from: (id, name).
    pub people: Vec<(String, String)>,
    /// The cases linked to this one: (id, number, title).
    pub related: Vec<(String, String, String)>,
    /// Earlier petitions by a petitioner of the same name, not linked yet: (id, number,
    /// title, status).
    pub similar: Vec<(String, String, String, String)>,
    pub topics: Vec<String>,
    pub max_extension: u32,
    pub today: String,
    pub error: Option<String>,
    pub docs: super::documents::DocsView,
    pub files: super::attachments::FilesView,
    pub fu: super::followups::FollowUpsView,
}

fn unit_label(l: &super::Lang, u: DayUnit) -> String {
    match u {
        DayUnit::Calendar => l.t("case.unit_calendar").to_string(),
        DayUnit::Working => l.t("case.unit_working").to_string(),
    }
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Path(id): Path<Uuid>,
) -> impl IntoResponse {
    PageOut(
        build(&state, &v, id, None)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

/// The case page's sample of each action: the request its form would send, checked as the
/// command (classification with the first configured topic, a one-day extension, a reply
/// today…).
pub(super) fn sample(action: &str, topic: Option<&str>, today: Date) -> Option<CaseAction> {
    let x = || Some("x".to_string());
    let req = match action {
        "classify" => CaseActionRequest {
            category: Some("administrative".into()),
            topic: Some(topic?.to_string()),
            ..Default::default()
        },
        "propose" => CaseActionRequest {
            text: x(),
            ..Default::default()
        },
        "route" => CaseActionRequest {
            kind: Some("in_house".into()),
            target: x(),
            ..Default::default()
        },
        "extension-request" => CaseActionRequest {
            days: Some(1),
            reason: x(),
            ..Default::default()
        },
        "extension-decision" => CaseActionRequest {
            approve: Some(false),
            ..Default::default()
        },
        "reply" => CaseActionRequest {
            date: Some(today.to_string()),
            channel: x(),
            summary: x(),
            ..Default::default()
        },
        "follow-up" => CaseActionRequest {
            satisfaction: Some("satisfied".into()),
            ..Default::default()
        },
        "supervise" => CaseActionRequest {
            step: Some("chase".into()),
            note: x(),
            ..Default::default()
        },
        _ => CaseActionRequest::default(),
    };
    CaseAction::parse(action, &req).ok()
}

async fn build(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    error: Option<String>,
) -> Result<CasePage, ApiError> {
    let l = v.lang;
    let dry = Checker::new(state, &v.actor, id).await?;
    let c = dry.case().clone();
    let s = dry.settings().clone();
    let tz: TimeZone = s.tz();
    let now = state.clock.now();
    let today = now.to_zoned(tz.clone()).date();
    let topic = s.topics.first().map(String::as_str);
    let mut allowed = CaseAllowed::default();
    for (action, flag) in [
        ("classify", &mut allowed.classify),
        ("propose", &mut allowed.propose),
        ("approve", &mut allowed.approve),
        ("route", &mut allowed.route),
        ("extension-request", &mut allowed.extension_request),
        ("extension-decision", &mut allowed.extension_decision),
        ("reply", &mut allowed.reply),
        ("follow-up", &mut allowed.follow_up),
        ("supervise", &mut allowed.supervise),
    ] {
        if let Some(a) = sample(action, topic, today) {
            *flag = dry.accepts(&a).await;
        }
    }
    allowed.lead = dry
        .accepts(&CaseAction::Lead {
            person_id: v.actor.person_id,
        })
        .await;
    // Linking is checked against the case linked when it is sent (it must exist and be in
    // scope); here the permission on this case.
    allowed.link = may(
        state,
        v,
        Permission::HandleCase,
        &dry.record().jurisdiction_path,
    );
    let refer_to = if allowed.route {
        state
            .store
            .child_jurisdictions(c.jurisdiction_id)
            .await?
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect()
    } else {
        Vec::new()
    };
    let people = if allowed.lead {
        match state.store.jurisdiction(c.jurisdiction_id).await? {
            Some(j) => state
                .store
                .list_people(&j.path)
                .await?
                .into_iter()
                .filter(|p| p.jurisdiction_id == c.jurisdiction_id)
                .map(|p| (p.id.to_string(), p.name))
                .collect(),
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let mut related = Vec::new();
    for rid in &c.related_cases {
        let Some(r) = state.store.case_summary(*rid).await? else {
            continue;
        };
        // A linked case outside the viewer's area is not named.
        if let Some(j) = state.store.jurisdiction(r.jurisdiction_id).await?
            && v.actor.sees(&j.path)
        {
            related.push((rid.to_string(), r.case_number, r.title));
        }
    }
    let mut similar = Vec::new();
    if allowed.link {
        let mut seen = std::collections::HashSet::new();
        for pt in &c.petitioners {
            for r in state
                .store
                .cases_with_petitioner(&pt.name, &v.actor.scope_path, c.id, 5)
                .await?
            {
                if c.related_cases.contains(&r.id) || !seen.insert(r.id) {
                    continue;
                }
                similar.push((
                    r.id.to_string(),
                    r.case_number,
                    r.title,
                    l.tk("case_status", &r.status),
                ));
            }
        }
    }
    let lookup = |post: &str| dry.holders(post);
    let post_name = |post: &str| l.tk("post", post);
    let approvals = s
        .approval_chain
        .iter()
        .enumerate()
        .map(|(i, post)| {
            let a = c.approvals.get(i);
            ApprovalView {
                post: post_name(post),
                done: a.map(|a| l.f2("case.approved_by", &a.by.name, hm(a.at, &tz))),
                note: a.and_then(|a| a.note.clone()).unwrap_or_default(),
                holders: lookup(post)
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(l.t("sep.list")),
            }
        })
        .collect();
    let steps = {
        let mut rules = s.supervision.clone();
        rules.sort_by_key(|r| (r.offset_days, r.step));
        rules
            .iter()
            .map(|r| {
                let at = c
                    .due_at
                    .checked_add(jiff::SignedDuration::from_hours(
                        i64::from(r.offset_days) * 24,
                    ))
                    .unwrap_or(c.due_at);
                StepView {
                    label: l.tk("supervision", step_id(r.step)),
                    when: hm(at, &tz),
                    done: c
                        .supervision
                        .iter()
                        .find(|x| x.step == r.step)
                        .map(|x| hm(x.at, &tz)),
                }
            })
            .collect()
    };
    let timeline = super::timeline(state, l, id, "case_event", &tz).await?;
    let petitioners = c
        .petitioners
        .iter()
        .map(|p: &Petitioner| PetitionerView {
            name: p.name.clone(),
            contact: p.contact.as_deref().map(mask_phone).unwrap_or_default(),
            address: p.address.as_deref().map(mask_address).unwrap_or_default(),
        })
        .collect();
    let mut p = Chrome::new(v, "cases", format!("{} · {}", c.case_number, c.title));
    p.live = id.to_string();
    let docs = super::documents::DocsView::new(
        l,
        format!("/cases/{id}/documents"),
        if may(
            state,
            v,
            Permission::HandleCase,
            &dry.record().jurisdiction_path,
        ) {
            yingji_app::documents::case_kinds(&c)
                .into_iter()
                .map(|k| (k, None, String::new()))
                .collect()
        } else {
            vec![]
        },
        &c.documents,
    );
    let files = super::attachments::FilesView::load(
        state,
        v,
        l,
        "case",
        c.id,
        may(
            state,
            v,
            Permission::HandleCase,
            &dry.record().jurisdiction_path,
        ),
    )
    .await?;
    let fu = super::followups::FollowUpsView::load(
        state,
        v,
        l,
        "case",
        c.id,
        &dry.record().jurisdiction_path,
        Permission::HandleCase,
    )
    .await?;
    Ok(CasePage {
        p,
        docs,
        files,
        fu,
        id: id.to_string(),
        status: l.tk("case_status", c.status.as_str()),
        channel: l.tk("channel", c.channel.as_str()),
        form: if c.form == CaseForm::Single {
            l.t("case.single").to_string()
        } else {
            l.f1("case.collective", c.headcount)
        },
        category: c
            .category
            .map(|k| l.tk("category", k.as_str()))
            .unwrap_or_default(),
        clock: clock_of(state, l, &c, &s),
        received: format!(
            "{} · {}",
            hm(c.received_at, &tz),
            l.f2("case.clock_rule", c.clock.days, unit_label(l, c.clock.unit))
        ),
        petitioners,
        approvals,
        routing: c.routing.as_ref().map(|r| {
            (
                l.tk(
                    "route",
                    match r.kind {
                        RouteKind::InHouse => "in_house",
                        RouteKind::Assign => "assign",
                        RouteKind::Transfer => "transfer",
                        RouteKind::Refer => "refer",
                    },
                ),
                r.target.clone(),
                r.notice.clone().unwrap_or_default(),
            )
        }),
        child_case: c
            .routing
            .as_ref()
            .and_then(|r| r.child_case)
            .map(|u| u.to_string()),
        origin: c
            .origin
            .as_ref()
            .map(|o| (o.case_id.to_string(), o.case_number.clone())),
        extension: c.extension.as_ref().map(|x| {
            (
                x.days,
                x.reason.clone(),
                l.tk(
                    "extension",
                    match x.state {
                        ExtensionState::Requested => "requested",
                        ExtensionState::Approved => "approved",
                        ExtensionState::Refused => "refused",
                    },
                ),
                x.decided_by
                    .as_ref()
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
            )
        }),
        lead: c.lead.as_ref().map(|p| p.name.clone()).unwrap_or_default(),
        steps,
        supervised_by_hand: c
            .supervision
            .iter()
            .filter_map(|x| {
                Some((
                    l.tk("supervision", step_id(x.step)),
                    x.by.as_ref()?.name.clone(),
                    hm(x.at, &tz),
                    x.note.clone().unwrap_or_default(),
                ))
            })
            .collect(),
        reply: c.reply.as_ref().map(|r| {
            (
                r.on.to_string(),
                r.channel.clone(),
                r.summary.clone(),
                r.on_time,
            )
        }),
        follow_up: c.follow_up.as_ref().map(|f| {
            (
                l.tk(
                    "satisfaction",
                    match f.satisfaction {
                        Satisfaction::Satisfied => "satisfied",
                        Satisfaction::BasicallySatisfied => "basically_satisfied",
                        Satisfaction::Dissatisfied => "dissatisfied",
                    },
                ),
                f.note.clone().unwrap_or_default(),
            )
        }),
        timeline,
        allowed,
        refer_to,
        people,
        related,
        similar,
        topics: s.topics.clone(),
        max_extension: s.extension.max_days,
        today: today.to_string(),
        error,
        c,
    })
}

/// POST /cases/{id}/do/{action}: the same service call as `POST /api/v1/cases/{id}/{action}`.
pub async fn action(
    State(state): State<AppState>,
    Path((id, action)): Path<(Uuid, String)>,
    posted: Posted,
) -> Response {
    let Posted { viewer: v, form } = posted;
    let result = run_action(&state, &v, id, &action, &form).await;
    match result {
        Ok(()) => see_other(&format!("/cases/{id}")),
        Err(e) if e.code == yingji_app::ErrorCode::NotFound => {
            PageOut(Err((e.into(), v.lang))).into_response()
        }
        Err(e) => {
            let msg = error_text(v.lang, &e);
            let mut r = PageOut(
                build(&state, &v, id, Some(msg))
                    .await
                    .or_page(v.lang)
                    .map(|p| render(&p)),
            )
            .into_response();
            if r.status().is_success() {
                *r.status_mut() = e.status();
            }
            r
        }
    }
}

/// A case form as the API's request body (the same keys; `approve` is yes or no).
fn request_of(f: &Form) -> Result<CaseActionRequest, AppError> {
    let uuid = |k: &str| {
        f.get(k)
            .map(|v| Uuid::parse_str(&v).map_err(|_| AppError::invalid(k, "not an id")))
            .transpose()
    };
    Ok(CaseActionRequest {
        category: f.get("category"),
        topic: f.get("topic"),
        text: f.get("text"),
        note: f.get("note"),
        kind: f.get("kind"),
        target: f.get("target"),
        target_jurisdiction_id: uuid("target_jurisdiction_id")?,
        notice: f.get("notice"),
        person_id: uuid("person_id")?,
        days: f
            .get("days")
            .map(|d| {
                d.parse()
                    .map_err(|_| AppError::invalid("days", "a number of days"))
            })
            .transpose()?,
        reason: f.get("reason"),
        approve: f.get("approve").map(|a| a == "yes"),
        date: f.get("date"),
        channel: f.get("channel"),
        summary: f.get("summary"),
        satisfaction: f.get("satisfaction"),
        case_id: uuid("case_id")?,
        incident_id: uuid("incident_id")?,
        step: f.get("step"),
    })
}

async fn run_action(
    state: &AppState,
    v: &Viewer,
    id: Uuid,
    action: &str,
    f: &Form,
) -> Result<(), ApiError> {
    let mut req = request_of(f)?;
    // A repeated petition is linked by the number the registrar sees on the letter (统一编号).
    if action == "link"
        && req.case_id.is_none()
        && req.incident_id.is_none()
        && let Some(number) = f.get("case_number")
    {
        let found = state.store.case_by_number(&number).await?;
        let visible = match found {
            Some(cid) => match state.store.case_summary(cid).await? {
                Some(r) => match state.store.jurisdiction(r.jurisdiction_id).await? {
                    Some(j) if v.actor.sees(&j.path) => Some(cid),
                    _ => None,
                },
                None => None,
            },
            None => None,
        };
        req.case_id = Some(visible.ok_or_else(|| {
            ApiError::from(AppError::invalid(
                "case_number",
                "no case with this number in your area",
            ))
        })?);
    }
    // A referral (转交) names the jurisdiction chosen; its name is the routing's target.
    if req.kind.as_deref() == Some("refer")
        && req.target.is_none()
        && let Some(jid) = req.target_jurisdiction_id
    {
        req.target = state.store.jurisdiction(jid).await?.map(|j| j.name);
    }
    let action = CaseAction::parse(action, &req)?;
    state
        .execute(
            &v.actor,
            None,
            &OnCase {
                id: id.into(),
                action,
            },
        )
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Registering a case

#[derive(Template)]
#[template(path = "case_new.html")]
pub struct NewCasePage {
    pub p: Chrome,
    /// (id, name, selected)
    pub jurisdictions: Vec<(String, String, bool)>,
    /// (value, label, selected)
    pub channels: Vec<(&'static str, String, bool)>,
    pub case_types: Vec<(String, String, bool)>,
    pub collective: bool,
    pub values: Form,
    pub idem: String,
    pub error: Option<String>,
    /// Today in the rules' zone (the latest receipt date the form accepts).
    pub today: String,
}

impl NewCasePage {
    pub fn v(&self, k: &str) -> String {
        self.values.get(k).unwrap_or_default()
    }
}

const CHANNELS: &[&str] = &["letter", "visit", "phone", "online", "fax"];

async fn new_page(
    state: &AppState,
    v: &Viewer,
    values: Form,
    error: Option<String>,
) -> Result<NewCasePage, ApiError> {
    let l = v.lang;
    state.require(
        &v.actor,
        Permission::RegisterCase,
        &v.actor.scope_path,
        "case",
    )?;
    let chosen = values
        .get("jurisdiction")
        .unwrap_or_else(|| v.actor.jurisdiction_id.to_string());
    let jurisdictions = state
        .store
        .list_jurisdictions(&v.actor.scope_path)
        .await?
        .into_iter()
        .map(|j| {
            let id = j.id.to_string();
            let on = id == chosen;
            (id, j.name, on)
        })
        .collect();
    let (s, _) = settings_for(state, &v.actor.scope_path).await?;
    let ch = values.get("channel").unwrap_or_else(|| "letter".into());
    let ct = values.get("case_type").unwrap_or_else(|| "general".into());
    let mut case_types = vec![(
        "general".to_string(),
        l.f2(
            "case.type_general",
            s.clock.days,
            unit_label(l, s.clock.unit),
        ),
        ct == "general",
    )];
    for (k, rule) in &s.case_types {
        case_types.push((
            k.clone(),
            format!(
                "{} ({})",
                l.tk("case_type", k),
                l.f2("case.clock_rule", rule.days, unit_label(l, rule.unit))
            ),
            *k == ct,
        ));
    }
    let idem = values
        .get("idem")
        .unwrap_or_else(|| Uuid::new_v4().simple().to_string());
    let today = state.clock.now().to_zoned(s.tz()).date().to_string();
    Ok(NewCasePage {
        today,
        p: Chrome::new(v, "cases", l.t("case_new.title").to_string()),
        jurisdictions,
        channels: CHANNELS
            .iter()
            .map(|c| (*c, l.tk("channel", c), *c == ch))
            .collect(),
        case_types,
        collective: values.get("form").as_deref() == Some("collective"),
        values,
        idem,
        error,
    })
}

pub async fn new_form(State(state): State<AppState>, v: Viewer) -> impl IntoResponse {
    PageOut(
        new_page(&state, &v, Form::default(), None)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

/// POST /cases/new: registers through the `RegisterCase` command and shows the case with its due
/// date.
pub async fn create(State(state): State<AppState>, posted: Posted) -> Response {
    let Posted { viewer: v, form } = posted;
    match register_from(&state, &v, &form).await {
        Ok(id) => see_other(&format!("/cases/{id}")),
        Err(e) => {
            let msg = error_text(v.lang, &e);
            let mut r = PageOut(
                new_page(&state, &v, form, Some(msg))
                    .await
                    .or_page(v.lang)
                    .map(|p| render(&p)),
            )
            .into_response();
            if r.status().is_success() {
                *r.status_mut() = e.status();
            }
            r
        }
    }
}

/// The register form as the API's request body: one petitioner per line of `names`; contact
/// and address belong to the first (the one the reply goes to).
fn new_case_of(v: &Viewer, f: &Form) -> Result<NewCaseRequest, AppError> {
    let jurisdiction_id = match f.get("jurisdiction") {
        None => v.actor.jurisdiction_id,
        Some(j) => {
            Uuid::parse_str(&j).map_err(|_| AppError::invalid("jurisdiction_id", "not an id"))?
        }
    };
    let names: Vec<String> = f
        .get("names")
        .map(|n| {
            n.lines()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let collective = f.get("form").as_deref() == Some("collective");
    Ok(NewCaseRequest {
        jurisdiction_id,
        channel: f.get("channel").unwrap_or_default(),
        form: f.get("form"),
        headcount: if collective {
            Some(f.get("headcount").and_then(|h| h.parse().ok()).unwrap_or(0))
        } else {
            None
        },
        petitioners: names
            .into_iter()
            .enumerate()
            .map(|(i, name)| PetitionerRequest {
                name,
                contact: if i == 0 { f.get("contact") } else { None },
                address: if i == 0 { f.get("address") } else { None },
                id_number: if i == 0 { f.get("id_number") } else { None },
            })
            .collect(),
        title: f.get("title").unwrap_or_default(),
        grievance: f.get("grievance").unwrap_or_default(),
        case_type: f.get("case_type"),
        backdate_reason: f.get("backdate_reason"),
        ..Default::default()
    })
}

async fn register_from(state: &AppState, v: &Viewer, f: &Form) -> Result<Uuid, ApiError> {
    let mut req = new_case_of(v, f)?;
    // The date a letter was received (收信日期), when it is not today: the start of that day
    // in the zone of the rules of the case's jurisdiction.
    if let Some(on) = f.get("received_on") {
        let day: Date = on
            .parse()
            .map_err(|_| ApiError::from(AppError::invalid("received_on", "a date (YYYY-MM-DD)")))?;
        let path = state
            .store
            .jurisdiction(req.jurisdiction_id)
            .await?
            .map_or_else(|| v.actor.scope_path.clone(), |j| j.path);
        let (s, _) = settings_for(state, &path).await?;
        let tz = s.tz();
        if day != state.clock.now().to_zoned(tz.clone()).date() {
            let at = day
                .to_zoned(tz)
                .map_err(|_| ApiError::from(AppError::invalid("received_on", "a date")))?;
            req.received_at = Some(yingji_store::fmt_ts(at.timestamp()));
        }
    }
    // The form's one-time key makes a double submission register one case.
    let idem = f.get("idem").map(|k| {
        let key = format!("console-case:{k}");
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        Idem {
            request_hash: format!("{:x}", h.finalize()),
            key,
        }
    });
    let out = state
        .execute(&v.actor, idem.as_ref(), &RegisterCase(req))
        .await?;
    let body: serde_json::Value =
        serde_json::from_str(&out.body().0).map_err(ApiError::internal)?;
    body["id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ApiError::internal("a case without id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_left_counts_working_days_when_the_clock_does() {
        let cal = Calendar::builtin();
        let d = |s: &str| s.parse::<Date>().unwrap();
        // Friday 6 March 2026 → Tuesday 10 March: Monday and Tuesday are working days.
        assert_eq!(
            days_left(&cal, DayUnit::Working, d("2026-03-06"), d("2026-03-10")),
            2
        );
        assert_eq!(
            days_left(&cal, DayUnit::Calendar, d("2026-03-06"), d("2026-03-10")),
            4
        );
        // Due today, and three days past.
        assert_eq!(
            days_left(&cal, DayUnit::Working, d("2026-03-10"), d("2026-03-10")),
            0
        );
        assert_eq!(
            days_left(&cal, DayUnit::Working, d("2026-03-13"), d("2026-03-10")),
            -3
        );
        // The May Day holidays (1–5 May 2026) are not working days.
        assert_eq!(
            days_left(&cal, DayUnit::Working, d("2026-04-30"), d("2026-05-06")),
            1
        );
    }

    #[test]
    fn addresses_are_cut_short() {
        assert_eq!(mask_address("临溪市青石镇某路1号"), "临溪市****");
        assert_eq!(mask_address("甲"), "甲****");
    }
}
