//! Rosters: who holds each post of the jurisdiction's plans now (and how: duty roster, holiday
//! rotation, swap, override, standing holder, deputy), the duty schedule of the coming week, and
//! the gaps in it — the application's duty board (`yingji_app::notify::duty_board`: the same
//! `resolve_post` the calls use and the same gap query as the API and `yingji roster gaps`,
//! with the API's permission).

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, ToSpan};
use serde::Deserialize;
use uuid::Uuid;
use yingji_domain::roster::Via;

use super::{Chrome, OrPage, PageOut, Posted, Viewer, hm, may, render, see_other};
use crate::AppState;
use crate::error::ApiError;

/// How far ahead the schedule and the gaps look.
const DAYS_AHEAD: i64 = 7;

pub struct PostLine {
    pub post: String,
    pub post_id: String,
    pub plan: String,
    pub people: String,
    /// Who holds it now: (person id, name), each with a button to read their phone.
    pub holders: Vec<(String, String)>,
    pub via: String,
    pub vacant: bool,
}

pub struct ScheduleView {
    pub post: String,
    pub post_id: String,
    /// The rotation, one name per line, as the edit form shows it.
    pub rotation: String,
    pub start_date: String,
    pub shifts: Vec<String>,
    /// (date, people per shift)
    pub days: Vec<(String, Vec<String>)>,
}

pub struct GapLine {
    pub post: String,
    pub from: String,
    pub until: String,
}

#[derive(Template)]
#[template(path = "roster.html")]
pub struct RosterPage {
    pub p: Chrome,
    /// (id, name, selected)
    pub jurisdictions: Vec<(String, String, bool)>,
    pub posts: Vec<PostLine>,
    pub schedules: Vec<ScheduleView>,
    pub gaps: Vec<GapLine>,
    pub days: i64,
    pub j: String,
    /// The viewer may change the rosters here (`manage_notifications`).
    pub can_edit: bool,
    /// The viewer may read a holder's phone to call them (`call_people`, or
    /// `reveal_personal_data`), each read logged.
    pub can_call: bool,
    /// A phone just read: (name, number).
    pub revealed: Option<(String, String)>,
}

#[derive(Deserialize)]
pub struct RosterQuery {
    jurisdiction: Option<Uuid>,
}

pub async fn page(
    State(state): State<AppState>,
    v: Viewer,
    Query(q): Query<RosterQuery>,
) -> impl IntoResponse {
    PageOut(
        build(&state, &v, q.jurisdiction, None)
            .await
            .or_page(v.lang)
            .map(|p| render(&p)),
    )
}

fn via_key(v: Option<Via>) -> &'static str {
    match v {
        Some(Via::Rotation) => "rotation",
        Some(Via::Holiday) => "holiday",
        Some(Via::Swap) => "swap",
        Some(Via::Override) => "override",
        Some(Via::Holder) => "holder",
        Some(Via::Deputy) => "deputy",
        None => "vacant",
    }
}

async fn build(
    state: &AppState,
    v: &Viewer,
    jurisdiction: Option<Uuid>,
    revealed: Option<(String, String)>,
) -> Result<RosterPage, ApiError> {
    let l = v.lang;
    let now = state.clock.now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * DAYS_AHEAD))
        .unwrap_or(now);
    let board = yingji_app::notify::duty_board(
        state,
        &v.actor,
        jurisdiction.unwrap_or(v.actor.jurisdiction_id),
        until,
    )
    .await?;
    let j = &board.jurisdiction;
    let mut posts = Vec::new();
    let mut gaps = Vec::new();
    let mut seen_post = HashSet::new();
    let mut tz = super::local_tz(state, v).await?;
    for bp in &board.plans {
        let plan = &bp.plan;
        tz = plan.time.tz.clone();
        for post in &bp.posts {
            if !seen_post.insert(post.post_id.clone()) {
                continue;
            }
            let r = &post.now;
            posts.push(PostLine {
                post: post.post_name.clone(),
                post_id: post.post_id.clone(),
                plan: plan.meta.title.clone(),
                people: r
                    .people
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(l.t("sep.list")),
                holders: r
                    .people
                    .iter()
                    .map(|p| (p.person_id.to_string(), p.name.clone()))
                    .collect(),
                via: l.tk("via", via_key(r.via)),
                vacant: r.people.is_empty(),
            });
        }
        for g in &bp.gaps.items {
            gaps.push(GapLine {
                post: g.post_name.clone(),
                from: hm(g.from, &plan.time.tz),
                until: hm(g.until, &plan.time.tz),
            });
        }
    }
    let holidays = state.holidays();
    let mut schedules = Vec::new();
    for (post_id, r) in &board.rosters {
        let rtz = TimeZone::get(&r.time_zone).unwrap_or_else(|_| tz.clone());
        let today = now.to_zoned(rtz.clone()).date();
        let mut days = Vec::new();
        for i in 0..DAYS_AHEAD {
            let d = today.checked_add(i.days()).unwrap_or(today);
            let people = r
                .shifts
                .iter()
                .map(|s| {
                    d.at(s.start.hour(), s.start.minute(), 0, 0)
                        .to_zoned(rtz.clone())
                        .map(|z| {
                            r.on_duty(z.timestamp(), &holidays)
                                .people
                                .iter()
                                .map(|p| p.name.as_str())
                                .collect::<Vec<_>>()
                                .join(l.t("sep.list"))
                        })
                        .unwrap_or_default()
                })
                .collect();
            days.push((
                format!(
                    "{} {}",
                    d.strftime("%m-%d"),
                    l.tk("weekday", &d.weekday().to_monday_one_offset().to_string())
                ),
                people,
            ));
        }
        let post = posts
            .iter()
            .find(|p| p.post_id == *post_id)
            .map_or(post_id.clone(), |p| p.post.clone());
        schedules.push(ScheduleView {
            post,
            post_id: post_id.clone(),
            rotation: r
                .rotation
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            start_date: r.start_date.to_string(),
            shifts: r
                .shifts
                .iter()
                .map(|s| {
                    format!(
                        "{} {}–{}",
                        s.name,
                        s.start.strftime("%H:%M"),
                        s.end.strftime("%H:%M")
                    )
                })
                .collect(),
            days,
        });
    }
    let jurisdictions = state
        .store
        .list_jurisdictions(&v.actor.scope_path)
        .await?
        .into_iter()
        .map(|x| {
            let on = x.id == j.id;
            (x.id.to_string(), x.name, on)
        })
        .collect();
    let p = Chrome::new(v, "roster", l.f1("roster.title", &j.name));
    Ok(RosterPage {
        p,
        jurisdictions,
        posts,
        schedules,
        gaps,
        days: DAYS_AHEAD,
        j: j.id.to_string(),
        can_edit: may(
            state,
            v,
            yingji_app::Permission::ManageNotifications,
            &j.path,
        ),
        can_call: may(state, v, yingji_app::Permission::CallPeople, &j.path)
            || may(
                state,
                v,
                yingji_app::Permission::RevealPersonalData,
                &j.path,
            ),
        revealed,
    })
}

/// POST /roster/phone: reads the phone of a person holding a post here, to call them (the
/// same command as `POST /api/v1/people/{id}/reveal`, logged with the post as the reason),
/// and shows it on the page with a `tel:` link.
pub async fn phone(State(state): State<AppState>, posted: Posted) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let Posted { viewer: v, form: f } = posted;
    let l = v.lang;
    let run = async {
        let bad = |k: &str| ApiError::from(yingji_app::AppError::invalid(k, "an id"));
        let jid = f
            .get("j")
            .and_then(|s| Uuid::parse_str(&s).ok())
            .ok_or_else(|| bad("j"))?;
        let person_id = f
            .get("person_id")
            .and_then(|s| Uuid::parse_str(&s).ok())
            .ok_or_else(|| bad("person_id"))?;
        let cmd = yingji_app::directory::RevealPhone {
            person_id,
            req: yingji_app::directory::RevealRequest {
                field: "phone".into(),
                reason: l.f1("roster.call_reason", f.get("post").unwrap_or_default()),
            },
        };
        let out = state
            .execute(&v.actor, None, &cmd)
            .await?
            .output()
            .ok_or_else(|| ApiError::internal("a reveal is never replayed"))?;
        let name = f.get("name").unwrap_or_default();
        let number = out
            .value
            .unwrap_or_else(|| l.t("roster.no_phone").to_string());
        build(&state, &v, Some(jid), Some((name, number))).await
    };
    match run.await {
        Ok(page) => render(&page),
        Err(e) => PageOut(Err((e.into(), v.lang))).into_response(),
    }
}

/// POST /roster/set: a post's rotation (one name per line, people of the viewer's area, in
/// duty order) and the date the rotation starts from; the roster's shifts, holiday rotation,
/// swaps and overrides are kept. The same command as `PUT /api/v1/jurisdictions/{id}/rosters/{post}`.
pub async fn set(State(state): State<AppState>, posted: Posted) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let Posted { viewer: v, form: f } = posted;
    let run = async {
        let bad = |k: &str, m: &str| ApiError::from(yingji_app::AppError::invalid(k, m));
        let jid = f
            .get("j")
            .and_then(|s| Uuid::parse_str(&s).ok())
            .ok_or_else(|| bad("j", "an id"))?;
        let post = f.get("post").ok_or_else(|| bad("post", "a post"))?;
        let mut roster = yingji_app::notify::rosters(&state, &v.actor, jid)
            .await?
            .items
            .into_iter()
            .find(|r| r.post == post)
            .ok_or_else(|| ApiError::from(yingji_app::AppError::not_found("roster")))?;
        let people = state.store.list_people(&v.actor.scope_path).await?;
        let mut rotation = Vec::new();
        for name in f
            .get("rotation")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let found: Vec<_> = people.iter().filter(|p| p.name == name).collect();
            let [one] = found.as_slice() else {
                return Err(bad(
                    "rotation",
                    &format!("`{name}` is not exactly one person in your area"),
                ));
            };
            rotation.push(yingji_domain::PersonRef {
                person_id: one.id,
                name: one.name.clone(),
            });
        }
        roster.rotation = rotation;
        if let Some(d) = f.get("start_date") {
            roster.start_date = d.parse().map_err(|_| bad("start_date", "a date"))?;
        }
        let cmd = yingji_app::notify::SetRoster {
            jurisdiction_id: jid,
            post,
            roster,
        };
        state.execute(&v.actor, None, &cmd).await?;
        Ok::<Uuid, ApiError>(jid)
    };
    match run.await {
        Ok(j) => see_other(&format!("/roster?jurisdiction={j}")),
        Err(e) => PageOut(Err((e.into(), v.lang))).into_response(),
    }
}
