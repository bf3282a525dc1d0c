//! Rosters: who holds each post of the jurisdiction's plans now (and how: duty roster, holiday
//! rotation, swap, override, standing holder, deputy), the duty schedule of the coming week, and
//! the gaps in it — the same `calls::resolve_post` the calls use and the same
//! `notify_api::plan_gaps` as `yingji roster gaps`.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Deserialize;
use uuid::Uuid;
use yingji_domain::roster::{Roster, Via};

use super::{Chrome, OrPage, PageOut, Viewer, hm, render};
use crate::AppState;
use crate::error::ApiError;

/// How far ahead the schedule and the gaps look.
const DAYS_AHEAD: i64 = 7;

pub struct PostLine {
    pub post: String,
    pub post_id: String,
    pub plan: String,
    pub people: String,
    pub via: String,
    pub vacant: bool,
}

pub struct ScheduleView {
    pub post: String,
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
        build(&state, &v, q.jurisdiction)
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
) -> Result<RosterPage, ApiError> {
    let l = v.lang;
    let j = state
        .scoped_jurisdiction(
            &v.actor,
            jurisdiction.unwrap_or(v.actor.jurisdiction_id),
            "jurisdiction",
        )
        .await?;
    state.require(
        &v.actor,
        crate::trust::Permission::ViewDirectory,
        &j.path,
        "jurisdiction",
    )?;
    let now = state.clock.now();
    let until = now
        .checked_add(SignedDuration::from_hours(24 * DAYS_AHEAD))
        .unwrap_or(now);
    let mut posts = Vec::new();
    let mut gaps = Vec::new();
    let mut seen_plan = HashSet::new();
    let mut seen_post = HashSet::new();
    let mut tz = TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC);
    for row in state.store.list_plans(&j.path).await? {
        if row.jurisdiction_id != j.id || !seen_plan.insert(row.plan_id.clone()) {
            continue; // the newest version of each plan the jurisdiction owns
        }
        let plan = state.plan(&row.plan_id, row.version).await?;
        tz = plan.time.tz.clone();
        for post in &plan.posts {
            if !seen_post.insert(post.id.value.clone()) {
                continue;
            }
            let r = crate::calls::resolve_post(state, j.id, &post.id.value, now).await?;
            posts.push(PostLine {
                post: post.name.clone(),
                post_id: post.id.value.clone(),
                plan: plan.meta.title.clone(),
                people: r
                    .people
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
                via: l.tk("via", via_key(r.via)),
                vacant: r.people.is_empty(),
            });
        }
        let found = crate::notify_api::plan_gaps(
            state,
            j.id,
            &row.plan_id,
            now,
            until,
            SignedDuration::from_mins(15),
        )
        .await?;
        for g in found["items"].as_array().into_iter().flatten() {
            let t = |k: &str| {
                g[k].as_str()
                    .and_then(|s| s.parse::<Timestamp>().ok())
                    .map(|t| hm(t, &plan.time.tz))
                    .unwrap_or_default()
            };
            gaps.push(GapLine {
                post: g["post_name"].as_str().unwrap_or_default().to_string(),
                from: t("from"),
                until: t("until"),
            });
        }
    }
    let holidays = crate::calls::holidays(state);
    let mut schedules = Vec::new();
    for (post_id, body) in state.store.rosters_in(j.id).await? {
        let Ok(r) = serde_json::from_str::<Roster>(&body) else {
            continue;
        };
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
                                .join("、")
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
            .find(|p| p.post_id == post_id)
            .map_or(post_id.clone(), |p| p.post.clone());
        schedules.push(ScheduleView {
            post,
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
    })
}
