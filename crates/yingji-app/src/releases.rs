//! Information release (WF-13, 信息发布): drafted (text, audience, area, and the person who must
//! approve it — never the drafter), approved or rejected by that person alone, and only then
//! published: on the public page and as a CAP 1.2 alert in the Atom feed (`/cap/feed.atom`).
//! Every step is an event of the release's stream (`release.draft`, `release.approve`,
//! `release.reject`, `release.publish`). Nothing is public without an approval.

use std::fmt::Write;

use jiff::Timestamp;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::release::{self, Command, Draft, Event, Release, ReleaseKind};
use yingji_domain::{ActorRef, PersonRef};
use yingji_store::{ReleaseWrite, Row, WriteSet, fmt_ts};

use crate::command::{Command as AppCommand, Decided};
use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode, JsonText, Permission};

/// A draft (`POST /releases`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DraftRequest {
    /// The jurisdiction that releases it (default: the drafter's).
    pub jurisdiction_id: Option<Uuid>,
    /// The incident it is about, if any.
    pub incident_id: Option<Uuid>,
    /// `warning` (预警) or `information` (default).
    pub kind: Option<String>,
    pub title: String,
    pub text: String,
    /// Who it is for (default 社会公众).
    pub audience: Option<String>,
    /// The area it concerns (default: the jurisdiction's name).
    pub area: Option<String>,
    /// The person who must approve it (not the drafter).
    pub approver_person_id: Uuid,
}

/// A decision on a release (`POST /releases/{id}/{action}`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// The approval's note, or (required) why it is rejected.
    pub note: Option<String>,
}

fn limit(field: &'static str, s: &str, max: usize) -> Result<String, AppError> {
    let s = s.trim();
    if s.chars().count() > max {
        return Err(AppError::field(
            ErrorCode::InvalidField,
            field,
            format!("`{field}` may be at most {max} characters"),
        ));
    }
    Ok(crate::redact::text(s))
}

/// The writes of decided events: the stream's events and the release's row.
#[expect(clippy::too_many_arguments, reason = "the fields of one event append")]
fn write(
    ws: &mut WriteSet,
    after: &Release,
    path: &str,
    version: i64,
    head: Option<&str>,
    actor: &ActorRef,
    now: Timestamp,
    events: &[Event],
) -> Vec<Uuid> {
    let items = events
        .iter()
        .map(|e| Item::new(e.kind(), e, e.reason()))
        .collect();
    let ids = append(
        ws,
        after.id,
        "release",
        after.jurisdiction_id,
        version,
        head,
        actor,
        now,
        items,
    );
    ws.rows.push(Row::Release(ReleaseWrite::Put {
        id: after.id,
        jurisdiction_id: after.jurisdiction_id,
        jurisdiction_path: path.to_string(),
        status: after.status.as_str().to_string(),
        published_at: after.published_at.map(fmt_ts),
        updated_at: fmt_ts(now),
        body: serde_json::to_string(after).expect("a release serialises"),
    }));
    ids
}

/// The notice that posts a published release to each release webhook of the configuration
/// (their addresses sealed for the row, like any address outside the directory).
fn publication(
    app: &App,
    ws: &mut WriteSet,
    r: &Release,
    path: &str,
    event_id: Uuid,
    now: Timestamp,
) {
    let hooks = &app.notify.config().release_webhooks;
    if hooks.is_empty() {
        return;
    }
    let id = Uuid::now_v7();
    let base = app
        .notify
        .config()
        .base_url
        .trim_end_matches('/')
        .to_string();
    let notice = crate::notices::Notice::ReleasePublished {
        release_id: r.id,
        title: r.title.clone(),
        text: r.text.clone(),
        area: r.area.clone(),
        jurisdiction_id: r.jurisdiction_id,
        path: path.to_string(),
        cap_url: format!("{base}/cap/releases/{}.xml", r.id),
        hooks: hooks
            .iter()
            .map(|h| yingji_notify::DirectAddress {
                channel: "webhook".into(),
                address: app.sealer.seal(h, &crate::notices::notice_aad(id)),
            })
            .collect(),
    };
    ws.rows.push(notice.row_with_id(id, event_id, now));
}

/// Drafts a release (`release.draft`).
pub struct DraftRelease(pub DraftRequest);

impl AppCommand for DraftRelease {
    type Output = Release;

    fn kind(&self) -> &'static str {
        "release.draft"
    }

    fn status(&self) -> u16 {
        201
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Release>, AppError> {
        let r = &self.0;
        let jid = r.jurisdiction_id.unwrap_or(actor.jurisdiction_id);
        let j = app.scoped_jurisdiction(actor, jid, "jurisdiction").await?;
        let auth = app.authorize(actor, Permission::HandleIncident, &j.path, "jurisdiction")?;
        let kind = match r.kind.as_deref().unwrap_or("information") {
            "warning" => ReleaseKind::Warning,
            "information" => ReleaseKind::Information,
            _ => {
                return Err(AppError::field(
                    ErrorCode::InvalidField,
                    "kind",
                    "`kind` must be warning or information",
                ));
            }
        };
        if let Some(iid) = r.incident_id {
            crate::incidents::load(app, actor, iid, Permission::ViewIncidents).await?;
        }
        let approver = app
            .store
            .person(r.approver_person_id)
            .await?
            .ok_or_else(|| {
                AppError::field(
                    ErrorCode::UnknownPerson,
                    "approver_person_id",
                    "the approver is not a known person",
                )
            })?;
        let draft = Draft {
            id: Uuid::now_v7(),
            jurisdiction_id: j.id,
            incident_id: r.incident_id,
            kind,
            title: limit("title", &r.title, 200)?,
            text: limit("text", &r.text, 5000)?,
            audience: limit("audience", r.audience.as_deref().unwrap_or("社会公众"), 200)?,
            area: limit("area", r.area.as_deref().unwrap_or(&j.name), 200)?,
            approver: PersonRef {
                person_id: approver.id,
                name: approver.name,
            },
        };
        let actor_ref = actor.as_ref();
        let events = release::decide(None, &Command::Draft(draft), &actor_ref)?;
        let now = app.clock.now();
        let after = events
            .iter()
            .fold(None, |r, e| release::apply(r, e, now, &actor_ref))
            .ok_or_else(|| AppError::internal("a draft made no release"))?;
        let mut ws = WriteSet::default();
        write(&mut ws, &after, &j.path, 0, None, &actor_ref, now, &events);
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Release) -> JsonText {
        JsonText::of(out)
    }
}

/// The actions on a release (`POST /releases/{id}/{action}`).
pub const ACTIONS: &[&str] = &["approve", "reject", "publish"];

/// What is done to a release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseAction {
    Approve { note: Option<String> },
    Reject { reason: String },
    Publish,
}

impl ReleaseAction {
    /// The action named in the path, with its body. An unknown name is "not found".
    pub fn parse(action: &str, req: &DecisionRequest) -> Result<ReleaseAction, AppError> {
        let note = req
            .note
            .as_deref()
            .map(|n| limit("note", n, 2000))
            .transpose()?
            .filter(|n| !n.is_empty());
        Ok(match action {
            "approve" => ReleaseAction::Approve { note },
            "reject" => ReleaseAction::Reject {
                reason: note.ok_or_else(|| AppError::missing("note"))?,
            },
            "publish" => ReleaseAction::Publish,
            _ => return Err(AppError::not_found("action")),
        })
    }
}

/// Approves, rejects or publishes a release (`release.approve`, `release.reject`,
/// `release.publish`).
pub struct OnRelease {
    pub id: Uuid,
    pub action: ReleaseAction,
}

/// A stored release rebuilt from its events, with its row's path and head.
async fn load(app: &App, id: Uuid) -> Result<(Release, String, i64, String), AppError> {
    let rec = app
        .store
        .get_release(id)
        .await?
        .ok_or_else(|| AppError::not_found("release"))?;
    let events = app.store.stream_events(id).await?;
    let mut r = None;
    for e in &events {
        let ev: Event = serde_json::from_str(&e.envelope.payload).map_err(AppError::internal)?;
        let at: Timestamp = e.envelope.at.parse().map_err(AppError::internal)?;
        let by = ActorRef {
            person_id: e.envelope.actor_id,
            name: e.envelope.actor_name.clone(),
        };
        r = release::apply(r, &ev, at, &by);
    }
    let r = r.ok_or_else(|| AppError::not_found("release"))?;
    let head = events.last().map(|e| e.hash.clone()).unwrap_or_default();
    Ok((r, rec.jurisdiction_path, events.len() as i64, head))
}

impl AppCommand for OnRelease {
    type Output = Release;

    fn kind(&self) -> &'static str {
        match self.action {
            ReleaseAction::Approve { .. } => "release.approve",
            ReleaseAction::Reject { .. } => "release.reject",
            ReleaseAction::Publish => "release.publish",
        }
    }

    async fn run(&self, app: &App, actor: &Actor) -> Result<Decided<Release>, AppError> {
        let (r, path, version, head) = load(app, self.id).await?;
        // Deciding is the named approver's own act (the domain checks who); publishing needs
        // the right to handle incidents there.
        let auth = match self.action {
            ReleaseAction::Publish => {
                app.authorize(actor, Permission::HandleIncident, &path, "release")?
            }
            _ => app.authorize(actor, Permission::ViewIncidents, &path, "release")?,
        };
        let cmd = match &self.action {
            ReleaseAction::Approve { note } => Command::Approve { note: note.clone() },
            ReleaseAction::Reject { reason } => Command::Reject {
                reason: reason.clone(),
            },
            ReleaseAction::Publish => Command::Publish,
        };
        let actor_ref = actor.as_ref();
        let events = release::decide(Some(&r), &cmd, &actor_ref)?;
        let now = app.clock.now();
        let after = events
            .iter()
            .try_fold(r, |r, e| release::apply(Some(r), e, now, &actor_ref))
            .ok_or_else(|| AppError::internal("a release stopped being one"))?;
        let mut ws = WriteSet::default();
        let ids = write(
            &mut ws,
            &after,
            &path,
            version,
            Some(&head),
            &actor_ref,
            now,
            &events,
        );
        for (id, e) in ids.iter().zip(&events) {
            if *e == Event::Published {
                publication(app, &mut ws, &after, &path, *id, now);
            }
        }
        Ok(Decided::new(auth, ws, after))
    }

    fn respond(&self, out: &Release) -> JsonText {
        JsonText::of(out)
    }
}

/// The releases in the actor's area, newest first (at most 200).
pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Release>, AppError> {
    app.require(
        actor,
        Permission::ViewIncidents,
        &actor.scope_path,
        "jurisdiction",
    )?;
    app.store
        .list_releases(&actor.scope_path, 200)
        .await?
        .iter()
        .map(|b| serde_json::from_str(b).map_err(AppError::internal))
        .collect()
}

/// One release the actor may see.
pub async fn get(app: &App, actor: &Actor, id: Uuid) -> Result<Release, AppError> {
    let (r, path, _, _) = load(app, id).await?;
    app.require(actor, Permission::ViewIncidents, &path, "release")?;
    Ok(r)
}

/// The published releases, newest first (at most `limit`): public, no actor.
pub async fn published(app: &App, limit: i64) -> Result<Vec<Release>, AppError> {
    app.store
        .published_releases(limit)
        .await?
        .iter()
        .map(|b| serde_json::from_str(b).map_err(AppError::internal))
        .collect()
}

/// One published release (public); any other is "not found".
pub async fn published_one(app: &App, id: Uuid) -> Result<Release, AppError> {
    let (r, _, _, _) = load(app, id).await?;
    if r.status != release::Status::Published {
        return Err(AppError::not_found("release"));
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------------
// CAP 1.2

fn esc(s: &str) -> String {
    yingji_docs::xml_escape(s)
}

/// CAP's time: `2026-03-02T10:00:00+08:00` (no fraction, an explicit offset).
fn cap_time(t: Timestamp) -> String {
    t.to_zoned(crate::statistics::zone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

/// A published release as a CAP 1.2 alert (Chinese text, `zh-CN`). `sender` identifies the
/// deployment (its host name).
pub fn cap_alert(r: &Release, sender: &str) -> String {
    // CAP's sender is one token without spaces, commas, `&` or `<`.
    let sender: String = sender
        .chars()
        .filter(|c| !c.is_whitespace() && !",&<".contains(*c))
        .collect();
    let sender = if sender.is_empty() {
        "yingji".to_string()
    } else {
        sender
    };
    let at = r.published_at.unwrap_or(r.drafted_at);
    let (urgency, severity, certainty) = match r.kind {
        ReleaseKind::Warning => ("Expected", "Moderate", "Likely"),
        ReleaseKind::Information => ("Unknown", "Unknown", "Unknown"),
    };
    let mut x = String::new();
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.push_str(r#"<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">"#);
    let _ = write!(
        x,
        "<identifier>{}</identifier><sender>{}</sender><sent>{}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>",
        r.id,
        esc(&sender),
        cap_time(at)
    );
    let _ = write!(
        x,
        "<info><language>zh-CN</language><category>Safety</category><event>{}</event><urgency>{urgency}</urgency><severity>{severity}</severity><certainty>{certainty}</certainty><audience>{}</audience><effective>{}</effective><senderName>{}</senderName><headline>{}</headline><description>{}</description><area><areaDesc>{}</areaDesc></area></info>",
        esc(match r.kind {
            ReleaseKind::Warning => "预警信息",
            ReleaseKind::Information => "信息发布",
        }),
        esc(&r.audience),
        cap_time(at),
        esc(&r.area),
        esc(&r.title),
        esc(&r.text),
        esc(&r.area),
    );
    x.push_str("</alert>");
    x
}

/// The Atom index of the published releases, each entry linking its CAP alert.
pub fn cap_feed(releases: &[Release], base: &str, sender: &str) -> String {
    let updated = releases
        .first()
        .and_then(|r| r.published_at)
        .map(cap_time)
        .unwrap_or_else(|| "1970-01-01T00:00:00+00:00".into());
    let mut x = String::new();
    x.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = write!(
        x,
        r#"<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN"><id>{base}/cap/feed.atom</id><title>信息发布（CAP 1.2）</title><updated>{updated}</updated><author><name>{}</name></author><link rel="self" href="{base}/cap/feed.atom"/>"#,
        esc(sender)
    );
    for r in releases {
        let at = r.published_at.map(cap_time).unwrap_or_default();
        let _ = write!(
            x,
            r#"<entry><id>urn:uuid:{id}</id><title>{}</title><updated>{at}</updated><summary>{}</summary><link rel="alternate" type="application/cap+xml" href="{base}/cap/releases/{id}.xml"/></entry>"#,
            esc(&r.title),
            esc(&r.text),
            id = r.id,
        );
    }
    x.push_str("</feed>");
    x
}
