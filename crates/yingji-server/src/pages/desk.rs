//! The duty desk. First what waits for the signed-in person (我的待办): calls to acknowledge
//! (one tap), open tasks assigned to them, the scheduled reports and the screening return they
//! owe today. Then the office view: open incidents with level colour and state, tasks overdue
//! and due soon, unacknowledged calls, commitments and replies owed, cases near or past their
//! due date, and the day's report board (who has not reported yet, who is late). Drills are
//! kept apart, in a section of their own that opens on demand. Live: it refreshes on any
//! committed change in the viewer's scope.

use askama::Template;
use axum::extract::State;
use axum::response::IntoResponse;
use jiff::Timestamp;
use yingji_domain::callout::Callout;
use yingji_domain::incident::Incident;
use yingji_store::IncidentFilter;

use super::{Chrome, OrPage, PageOut, Viewer, hm, render};
use crate::AppState;
use crate::error::ApiError;

/// A task counts as "due soon" this long before its deadline.
const DUE_SOON_MINUTES: i64 = 60;
/// Statuses the desk shows as open work.
const OPEN: &[&str] = &["reported", "verified", "active"];

pub struct IncidentLine {
    pub id: String,
    pub title: String,
    pub level: Option<(String, String, String)>,
    pub status: String,
    pub kind: String,
    pub drill: bool,
    pub headcount: u32,
    pub reported: String,
    pub open_tasks: usize,
    pub overdue_tasks: usize,
}

pub struct TaskLine {
    pub incident_id: String,
    pub incident_title: String,
    pub group: String,
    pub title: String,
    pub due: String,
    pub rel: String,
    pub overdue: bool,
    pub state: String,
    pub drill: bool,
    pub assignees: String,
}

pub struct OwedLine {
    pub incident_id: String,
    pub incident_title: String,
    pub kind: String,
    pub text: String,
    pub owner: String,
    pub due: String,
    pub rel: String,
    pub overdue: bool,
    pub drill: bool,
}

/// A call placed by an activation that someone has not acknowledged yet.
pub struct CallLine {
    pub call_id: String,
    /// The signed-in person is called and has not acknowledged: one tap acknowledges.
    pub mine: bool,
    pub incident_id: String,
    pub incident_title: String,
    pub post: String,
    pub waiting: String,
    pub placed: String,
    pub rel: String,
    pub drill: bool,
    /// The duty directory of the incident's jurisdiction (to phone whoever is waited for).
    pub contact_href: String,
}

/// A notice nobody received: no one to send it to (`undeliverable`), or every attempt failed
/// (`dead`).
pub struct UndeliveredLine {
    pub subject: String,
    pub state: String,
    pub state_label: String,
    pub why: String,
    pub at: String,
    pub incident_id: Option<String>,
    pub drill: bool,
}

/// A decision that waits for the signed-in person: a coercive step they are named to approve,
/// a re-grade the plan proposes, an after-action review due, or a case proposal or extension
/// request whose decision is theirs.
pub struct DecisionLine {
    /// `coercive`, `regrade`, `review`, `case_approval` or `extension`.
    pub kind: &'static str,
    pub kind_label: String,
    pub title: String,
    pub detail: String,
    pub href: String,
    pub drill: bool,
}

/// A report owed today (scheduled reports, e.g. the daily nil reports of a special period).
pub struct ReportLine {
    pub schedule: String,
    pub party: String,
    pub due: String,
    pub late: bool,
}

#[derive(Template)]
#[template(path = "desk.html")]
pub struct DeskPage {
    pub p: Chrome,
    pub incidents: Vec<IncidentLine>,
    /// Open drill incidents, apart from the real ones.
    pub drill_incidents: Vec<IncidentLine>,
    /// Open tasks assigned to the signed-in person (drills included, marked).
    pub my_tasks: Vec<TaskLine>,
    /// Scheduled reports the signed-in person owes today and has not sent.
    pub my_reports: Vec<super::reports::OwedLine>,
    /// The screening return the person's unit owes today: (jurisdiction above, round key).
    pub my_return: Option<(String, String)>,
    /// Decisions waiting for the signed-in person.
    pub my_decisions: Vec<DecisionLine>,
    pub overdue: Vec<TaskLine>,
    pub soon: Vec<TaskLine>,
    pub owed: Vec<OwedLine>,
    pub drills: usize,
    pub calls: Vec<CallLine>,
    /// How many of the calls wait for the signed-in person (shown first, with one-tap
    /// acknowledgement).
    pub my_calls: usize,
    pub undelivered: Vec<UndeliveredLine>,
    pub cases: Vec<super::cases::CaseLine>,
    pub reports: Vec<ReportLine>,
    pub reports_late: usize,
}

/// POST /calls/{id}/ack: the signed-in person acknowledges a call from the desk (one tap),
/// through the same command as `POST /api/v1/calls/{id}/ack`, recorded as acknowledged in the
/// app (`inapp`, the channel the stored acknowledgements allow).
pub async fn ack_call(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<uuid::Uuid>,
    posted: super::Posted,
) -> axum::response::Response {
    let v = posted.viewer;
    let cmd = yingji_app::calls::AcknowledgeCall {
        call_id: id.into(),
        channel: "inapp".into(),
    };
    match state.execute(&v.actor, None, &cmd).await {
        Ok(_) => super::see_other("/"),
        Err(e) => PageOut(Err((ApiError::from(e).into(), v.lang))).into_response(),
    }
}

pub async fn page(State(state): State<AppState>, v: Viewer) -> impl IntoResponse {
    PageOut(build(&state, &v).await.or_page(v.lang).map(|p| render(&p)))
}

/// Loads the open incidents in the viewer's scope (their stored records, read together), with
/// the calls of those still open (from the callout's projection row: the desk reads, it does not decide).
async fn open_incidents(
    state: &AppState,
    v: &Viewer,
) -> Result<
    (
        Vec<Incident>,
        std::collections::HashMap<uuid::Uuid, Callout>,
    ),
    ApiError,
> {
    let lists = futures_util::future::try_join_all(OPEN.iter().chain(["ended"].iter()).map(
        |status| async move {
            state
                .store
                .list_incidents(&IncidentFilter {
                    scope_path: v.actor.scope_path.clone(),
                    status: Some((*status).into()),
                    limit: 200,
                    ..Default::default()
                })
                .await
        },
    ))
    .await?;
    // The records in one read (not a round trip each), kept in the lists' order.
    let ids: Vec<uuid::Uuid> = lists.into_iter().flatten().map(|r| r.id).collect();
    let mut bodies: std::collections::HashMap<uuid::Uuid, String> = state
        .store
        .incident_bodies(&ids)
        .await?
        .into_iter()
        .collect();
    let incidents: Vec<Incident> = ids
        .iter()
        .filter_map(|id| bodies.remove(id))
        .map(|b| serde_json::from_str::<Incident>(&b).map_err(ApiError::internal))
        .collect::<Result<_, _>>()?;
    let open: Vec<uuid::Uuid> = incidents
        .iter()
        .filter(|i| OPEN.contains(&i.status.as_str()))
        .map(|i| i.id)
        .collect();
    let callouts = state
        .store
        .callouts_of(&open)
        .await?
        .into_iter()
        .map(|(id, b)| {
            serde_json::from_str::<Callout>(&b)
                .map(|c| (id, c))
                .map_err(ApiError::internal)
        })
        .collect::<Result<_, _>>()?;
    Ok((incidents, callouts))
}

pub async fn build(state: &AppState, v: &Viewer) -> Result<DeskPage, ApiError> {
    let l = v.lang;
    let now = state.clock.now();
    let (incidents, callouts) = open_incidents(state, v).await?;
    let soon_limit = now
        .checked_add(jiff::SignedDuration::from_mins(DUE_SOON_MINUTES))
        .unwrap_or(now);
    let rel = |due: Timestamp| {
        let mins = (due.as_second() - now.as_second()) / 60;
        if due < now {
            l.f1("time.overdue_by", l.minutes(mins))
        } else {
            l.f1("time.due_in", l.minutes(mins))
        }
    };
    let mut lines = Vec::new();
    let mut drill_lines = Vec::new();
    let mut my_tasks = Vec::new();
    let mut my_decisions = Vec::new();
    let mut overdue = Vec::new();
    let mut soon = Vec::new();
    let mut owed = Vec::new();
    let mut drills = 0;
    let mut calls = Vec::new();
    for inc in &incidents {
        let plan = state.plan(&inc.plan_id, inc.plan_version).await?;
        let tz = &plan.time.tz;
        let id = inc.id.to_string();
        let open: Vec<_> = inc
            .tasks
            .iter()
            .filter(|t| !t.state.is_finished())
            .collect();
        if OPEN.contains(&inc.status.as_str()) {
            if inc.drill {
                drills += 1;
            }
            let target = if inc.drill {
                &mut drill_lines
            } else {
                &mut lines
            };
            target.push(IncidentLine {
                id: id.clone(),
                title: inc.title.clone(),
                level: inc.level.as_ref().or(inc.warning.as_ref()).map(|lv| {
                    (
                        lv.id.clone(),
                        lv.name.clone(),
                        lv.colour.clone().unwrap_or_else(|| "none".into()),
                    )
                }),
                status: l.tk("status", inc.status.as_str()),
                kind: l.tk("kind", kind_str(inc)),
                drill: inc.drill,
                headcount: inc.headcount,
                reported: hm(inc.reported_at, tz),
                open_tasks: open.len(),
                overdue_tasks: open.iter().filter(|t| t.overdue || t.due_at < now).count(),
            });
        }
        for t in open {
            let late = t.overdue || t.due_at < now;
            let line = || TaskLine {
                incident_id: id.clone(),
                incident_title: inc.title.clone(),
                group: t.group_name.clone(),
                title: t.title.clone(),
                due: hm(t.due_at, tz),
                rel: rel(t.due_at),
                overdue: late,
                state: l.tk("task", t.state.as_str()),
                drill: t.drill,
                assignees: t
                    .assignees
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(l.t("sep.list")),
            };
            if t.assignees.iter().any(|a| a.person_id == v.actor.person_id) {
                my_tasks.push((t.due_at, line()));
            }
            // The office view leaves drills to their own section.
            if inc.drill || (!late && t.due_at > soon_limit) {
                continue;
            }
            if late {
                overdue.push((t.due_at, line()));
            } else {
                soon.push((t.due_at, line()));
            }
        }
        if OPEN.contains(&inc.status.as_str()) {
            let none = Callout::default();
            let callout = callouts.get(&inc.id).unwrap_or(&none);
            for c in callout.calls.iter().filter(|c| !c.closed && !c.answered()) {
                let mine = c
                    .recipients
                    .iter()
                    .any(|r| r.acked_at.is_none() && r.person.person_id == v.actor.person_id);
                if inc.drill && !mine {
                    continue;
                }
                let waiting: Vec<&str> = c
                    .recipients
                    .iter()
                    .filter(|r| r.acked_at.is_none())
                    .map(|r| r.person.name.as_str())
                    .collect();
                calls.push((
                    c.placed_at,
                    CallLine {
                        call_id: c.id.to_string(),
                        mine,
                        incident_id: id.clone(),
                        incident_title: inc.title.clone(),
                        post: c.post_name.clone().or(c.post.clone()).unwrap_or_default(),
                        waiting: waiting.join(l.t("sep.list")),
                        placed: hm(c.placed_at, tz),
                        rel: l.f1(
                            "time.ago",
                            l.minutes((now.as_second() - c.placed_at.as_second()) / 60),
                        ),
                        drill: inc.drill,
                        contact_href: format!("/roster?jurisdiction={}", inc.jurisdiction_id),
                    },
                ));
            }
        }
        if OPEN.contains(&inc.status.as_str()) {
            use yingji_domain::incident::CoerciveState;
            for r in inc.coercive_steps.iter().filter(|r| {
                r.state == CoerciveState::Pending
                    && !r.id.is_nil()
                    && r.approver.person_id == v.actor.person_id
            }) {
                my_decisions.push(DecisionLine {
                    kind: "coercive",
                    kind_label: l.t("desk.decide_coercive").to_string(),
                    title: r.name.clone(),
                    detail: format!("{} · {} · {}", r.recorded_by.name, hm(r.at, tz), inc.title),
                    href: format!("/incidents/{id}#room-coercive"),
                    drill: inc.drill,
                });
            }
        }
        // A re-grade the plan proposes, or the review the ended response owes, when the
        // command path would take it from this person now.
        let review_owed = inc.status.as_str() == "ended" && inc.review.is_none();
        if inc.regrade.is_some() || review_owed {
            use yingji_app::incidents::{Checker, IncidentAction};
            use yingji_domain::incident::Command;
            let dry = Checker::new(state, &v.actor, inc.id).await?;
            if let Some(r) = &inc.regrade
                && dry
                    .accepts(&IncidentAction::Decide(Command::AcceptRegrade))
                    .await
            {
                let from = inc
                    .level
                    .as_ref()
                    .map(|lv| lv.name.clone())
                    .unwrap_or_default();
                my_decisions.push(DecisionLine {
                    kind: "regrade",
                    kind_label: l.t("desk.decide_regrade").to_string(),
                    title: inc.title.clone(),
                    detail: format!("{from} → {} · {}", r.to.name, hm(r.at, tz)),
                    href: format!("/incidents/{id}"),
                    drill: inc.drill,
                });
            }
            if review_owed
                && dry
                    .accepts(&IncidentAction::Review {
                        summary: "x".into(),
                        lessons: vec![],
                        corrective_actions: vec![],
                    })
                    .await
            {
                let due = inc.review_due_at.map(|d| (hm(d, tz), rel(d)));
                my_decisions.push(DecisionLine {
                    kind: "review",
                    kind_label: l.t("desk.decide_review").to_string(),
                    title: inc.title.clone(),
                    detail: due.map(|(d, r)| format!("{d} · {r}")).unwrap_or_default(),
                    href: format!("/incidents/{id}#room-review"),
                    drill: inc.drill,
                });
            }
        }
        for o in inc.obligations.iter().filter(|o| !o.done && !inc.drill) {
            owed.push((
                o.due_at,
                OwedLine {
                    incident_id: id.clone(),
                    incident_title: inc.title.clone(),
                    kind: l.tk("obligation", o.kind.as_str()),
                    text: o.text.clone(),
                    owner: o.owner.clone(),
                    due: hm(o.due_at, tz),
                    rel: rel(o.due_at),
                    overdue: o.overdue || o.due_at < now,
                    drill: o.drill,
                },
            ));
        }
    }
    overdue.sort_by_key(|(d, _)| *d);
    soon.sort_by_key(|(d, _)| *d);
    owed.sort_by_key(|(d, _)| *d);
    calls.sort_by_key(|(d, _)| *d);
    my_tasks.sort_by_key(|(d, _)| *d);
    // The other boards read apart from the incidents and from each other: at once.
    let (my_reports, awaiting, owed_return, undelivered, cases, reports) = tokio::try_join!(
        super::reports::owed_lines(state, v),
        super::cases::awaiting_my_decision(state, v),
        async {
            yingji_app::disputes::owed_return(state, &v.actor)
                .await
                .map_err(ApiError::from)
        },
        undelivered(state, v),
        super::cases::lines(state, v, "soon", 50),
        report_board(state, v),
    )?;
    let my_reports = my_reports.into_iter().filter(|r| r.open).collect();
    for d in awaiting {
        my_decisions.push(DecisionLine {
            kind: d.kind,
            kind_label: l
                .t(if d.kind == "extension" {
                    "desk.decide_extension"
                } else {
                    "desk.decide_case"
                })
                .to_string(),
            title: format!("{} {}", d.number, d.title),
            detail: d.detail,
            href: format!("/cases/{}", d.id),
            drill: false,
        });
    }
    let my_return = owed_return
        .filter(|o| {
            o.round
                .units
                .iter()
                .any(|u| u.unit_id == o.unit_id && u.state.as_str() == "missing")
        })
        .map(|o| (o.parent_name, o.round.round_key));
    let mut p = Chrome::new(v, "desk", l.t("desk.title").to_string());
    p.live = "*".into();
    Ok(DeskPage {
        p,
        incidents: lines,
        drill_incidents: drill_lines,
        my_tasks: my_tasks.into_iter().map(|x| x.1).collect(),
        my_reports,
        my_return,
        my_decisions,
        overdue: overdue.into_iter().map(|x| x.1).collect(),
        soon: soon.into_iter().map(|x| x.1).collect(),
        owed: owed.into_iter().map(|x| x.1).collect(),
        drills,
        my_calls: calls.iter().filter(|c| c.1.mine).count(),
        calls: calls.into_iter().map(|x| x.1).collect(),
        undelivered,
        cases,
        reports_late: reports.iter().filter(|r| r.late).count(),
        reports,
    })
}

/// The notices in the viewer's scope that reached nobody: undeliverable ones (nobody holds the
/// post, no channel), then dead letters (one per message, not per channel), newest first.
async fn undelivered(state: &AppState, v: &Viewer) -> Result<Vec<UndeliveredLine>, ApiError> {
    let l = v.lang;
    let tz = super::local_tz(state, v).await?;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (st, label) in [
        (yingji_notify::UNDELIVERABLE, "desk.undeliverable"),
        ("dead", "desk.undelivered_dead"),
    ] {
        let rows = state
            .store
            .list_deliveries(&yingji_store::notify::DeliveryFilter {
                scope_path: v.actor.scope_path.clone(),
                state: Some(st.into()),
                incident_id: None,
                channel: None,
                before: None,
                limit: 50,
            })
            .await?;
        for d in rows {
            if !seen.insert(d.outbox_id) {
                continue;
            }
            out.push(UndeliveredLine {
                subject: d.subject,
                state: d.state,
                state_label: l.t(label).to_string(),
                why: d.last_error.unwrap_or_default(),
                at: d
                    .created_at
                    .parse::<Timestamp>()
                    .map(|t| hm(t, &tz))
                    .unwrap_or(d.created_at),
                incident_id: d.incident_id.map(|i| i.to_string()),
                drill: d.drill,
            });
        }
    }
    Ok(out)
}

/// Today's scheduled reports not yet in, for every plan owned in the viewer's scope whose
/// reports the viewer may view (the application's read, as the API's board): late ones first,
/// then those still pending.
async fn report_board(state: &AppState, v: &Viewer) -> Result<Vec<ReportLine>, ApiError> {
    use yingji_domain::reports::BoardState;
    let mut out = Vec::new();
    for b in yingji_app::reports::boards_today(state, &v.actor).await? {
        let tz = &b.plan.time.tz;
        for r in b.rows {
            let late = r.state == BoardState::Late;
            if late || r.state == BoardState::Pending {
                out.push(ReportLine {
                    schedule: r.schedule_name,
                    party: r.party_name,
                    due: hm(r.due_at, tz),
                    late,
                });
            }
        }
    }
    out.sort_by_key(|r| !r.late);
    Ok(out)
}

pub fn kind_str(inc: &Incident) -> &'static str {
    use yingji_domain::incident::IncidentKind;
    match inc.kind {
        IncidentKind::EarlySign => "early_sign",
        IncidentKind::Event => "event",
        IncidentKind::Escalation => "escalation",
    }
}
