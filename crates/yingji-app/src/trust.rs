//! Sign-in settings and the configurable roles (`serve --trust FILE`); the disclosure log of
//! personal data read in clear; the audit chain's check.

use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;
use yingji_domain::audit::Broken;
use yingji_domain::policy::{Permission, Roles};
use yingji_store::WriteSet;

use crate::write::{Item, append};
use crate::{Actor, App, AppError, ErrorCode};

/// Sign-in and role configuration (`serve --trust FILE`, JSON; every key optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// Wrong passwords within `failure_window_seconds` that lock a login…
    pub max_failures: i64,
    pub failure_window_seconds: i64,
    /// …for this long after the last of them (even the right password is refused).
    pub lockout_seconds: i64,
    pub session_hours: i64,
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookie: bool,
    pub min_password_length: usize,
    /// How long petitioners' contact, address and ID number are kept after a case is no longer
    /// open (replied or closed), in days; `yingji purge` erases them after that.
    pub retention_days: i64,
    /// Sign-in attempts (API and console) per minute from one address.
    pub sign_in_per_minute: u32,
    /// Intake requests (incident reports, new cases, inbound SMS) per minute from one address;
    /// 0 (the default): not limited — a reporting gateway may send many from one address.
    pub intake_per_minute: u32,
    /// How often the stream heads that moved are recorded in a signed checkpoint (seconds,
    /// 1–86400; default 60): the longest window in which a deleted stream could go unnoticed.
    pub checkpoint_seconds: u64,
    /// Role id → permissions.
    pub roles: Roles,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            max_failures: 5,
            failure_window_seconds: 60,
            lockout_seconds: 15 * 60,
            session_hours: 12,
            secure_cookie: false,
            min_password_length: 10,
            retention_days: 3 * 365,
            sign_in_per_minute: 30,
            intake_per_minute: 0,
            checkpoint_seconds: 60,
            roles: yingji_domain::policy::default_roles(),
        }
    }
}

impl TrustConfig {
    pub fn from_json(text: &str) -> anyhow::Result<TrustConfig> {
        let cfg: TrustConfig = serde_json::from_str(text)?;
        if cfg.max_failures < 1 || cfg.failure_window_seconds < 1 || cfg.session_hours < 1 {
            anyhow::bail!(
                "max_failures, failure_window_seconds and session_hours must be positive"
            );
        }
        if !(1..=86_400).contains(&cfg.checkpoint_seconds) {
            anyhow::bail!("checkpoint_seconds must be from 1 to 86400");
        }
        if !(0..=36_500).contains(&cfg.retention_days) {
            anyhow::bail!("retention_days must be from 0 to 36500");
        }
        Ok(cfg)
    }

    pub fn role_allows(&self, role: &str, p: Permission) -> bool {
        self.roles.get(role).is_some_and(|ps| ps.contains(&p))
    }
}

// ---------------------------------------------------------------------------------------------
// Disclosure: every read of an unmasked personal value is logged first.

/// Adds the record that `actor` read an unmasked personal value, with why, to a write set: an
/// event of its own (a new "disclosure" stream) in the subject's jurisdiction. The value is
/// answered only once this is committed. Any subject (people, petition cases).
#[expect(clippy::too_many_arguments, reason = "the fields of one disclosure")]
pub fn disclosure(
    app: &App,
    ws: &mut WriteSet,
    actor: &Actor,
    subject_kind: &str,
    subject_id: Uuid,
    jurisdiction_id: Uuid,
    field: &str,
    reason: &str,
) -> Result<(), AppError> {
    let reason = reason.trim();
    if reason.chars().count() < 2 || reason.chars().count() > 500 {
        return Err(AppError::field(
            ErrorCode::ReasonRequired,
            "reason",
            "revealing personal data needs a reason (2–500 characters)",
        ));
    }
    append(
        ws,
        Uuid::now_v7(),
        "disclosure",
        jurisdiction_id,
        0,
        None,
        &actor.as_ref(),
        app.clock.now(),
        vec![Item::new(
            "personal_data_revealed",
            &json!({ "subject": subject_kind, "subject_id": subject_id, "field": field }),
            Some(reason.to_string()),
        )],
    );
    Ok(())
}

/// Records a disclosure on its own (see [`disclosure`]), committed before the caller answers
/// the value.
pub async fn log_disclosure(
    app: &App,
    actor: &Actor,
    subject_kind: &str,
    subject_id: Uuid,
    jurisdiction_id: Uuid,
    field: &str,
    reason: &str,
) -> Result<(), AppError> {
    let mut ws = WriteSet::default();
    disclosure(
        app,
        &mut ws,
        actor,
        subject_kind,
        subject_id,
        jurisdiction_id,
        field,
        reason,
    )?;
    app.commit(ws).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The audit chain

/// What `GET /audit/verify` answers: how many streams and events were checked and every
/// stream whose hash chain is broken.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditReport {
    /// Whether everything checked out: no broken stream, no checkpoint problem and (when asked
    /// for) no projection difference.
    pub intact: bool,
    /// The subtree checked (a jurisdiction path); none: the whole database.
    pub scope: Option<String>,
    pub streams: usize,
    pub events: usize,
    pub broken: Vec<BrokenLink>,
    /// Whether heads and checkpoints were checked against their signatures (the server holds
    /// the operator's key).
    pub signatures_checked: bool,
    /// Signed checkpoints verified, and the newest of them.
    pub checkpoints: usize,
    pub last_checkpoint: Option<CheckpointOut>,
    /// Problems of the checkpoints themselves, in English.
    pub checkpoint_problems: Vec<String>,
    /// With `projections=true`: each projection row rebuilt from its events and compared.
    pub projections: Option<crate::replay::ProjectionReport>,
}

/// The newest signed checkpoint (an operator may keep its signature elsewhere to notice the
/// newest checkpoints being removed).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CheckpointOut {
    pub id: i64,
    pub at: String,
    /// Streams recorded by all checkpoints up to this one.
    pub streams: i64,
    pub signature: String,
}

/// A stream whose hash chain does not check out, and where.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrokenLink {
    pub stream_id: Uuid,
    pub stream_kind: String,
    /// The sequence number of the first event that does not check out (none when the
    /// stream's head is what disagrees).
    pub seq: Option<i64>,
    pub event_id: Option<Uuid>,
    /// What kind of problem: `altered`, `unlinked`, `seq_gap`, `head_missing`, `unsigned`,
    /// `bad_signature`, `unknown_key`, `deleted`, `truncated` or `rewritten`.
    pub code: &'static str,
    /// What is wrong, in English.
    pub problem: String,
}

impl BrokenLink {
    pub fn of(stream_id: Uuid, stream_kind: &str, b: &Broken) -> BrokenLink {
        let (seq, event_id) = match b {
            Broken::HashMismatch {
                event_id,
                stream_seq,
            }
            | Broken::LinkMismatch {
                event_id,
                stream_seq,
            } => (Some(*stream_seq), Some(*event_id)),
            Broken::SeqGap { stream_seq, .. } => (Some(*stream_seq), None),
            Broken::Rewritten { stream_seq } => (Some(*stream_seq), None),
            Broken::HeadMismatch { .. }
            | Broken::Unsigned
            | Broken::BadSignature
            | Broken::UnknownKey { .. }
            | Broken::Deleted { .. }
            | Broken::Truncated { .. } => (None, None),
        };
        BrokenLink {
            stream_id,
            stream_kind: stream_kind.to_string(),
            seq,
            event_id,
            code: b.code(),
            problem: b.to_string(),
        }
    }
}

/// One disclosure: who read which personal value in clear, when and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disclosure {
    pub at: String,
    pub actor_id: Uuid,
    pub actor_name: String,
    pub jurisdiction_id: Uuid,
    /// `person` or `case`.
    pub subject: String,
    pub subject_id: Option<Uuid>,
    /// `phone`, `contact`, `address`, `id_number`…
    pub field: String,
    pub reason: String,
}

/// The reveal log of the auditor's subtree, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisclosureList {
    pub items: Vec<Disclosure>,
}

/// Who revealed personal data in clear in the auditor's subtree (`read_audit`), newest first.
pub async fn disclosures(
    app: &App,
    actor: &Actor,
    limit: Option<i64>,
) -> Result<DisclosureList, AppError> {
    app.require(actor, Permission::ReadAudit, &actor.scope_path, "audit")?;
    let rows = app
        .store
        .disclosures(&actor.scope_path, limit.unwrap_or(100))
        .await?;
    Ok(DisclosureList {
        items: rows
            .into_iter()
            .map(|e| {
                let v = e.envelope;
                let p: serde_json::Value =
                    serde_json::from_str(&v.payload).unwrap_or(serde_json::Value::Null);
                Disclosure {
                    at: v.at,
                    actor_id: v.actor_id,
                    actor_name: v.actor_name,
                    jurisdiction_id: v.jurisdiction_id,
                    subject: p["subject"].as_str().unwrap_or("").to_string(),
                    subject_id: p["subject_id"].as_str().and_then(|s| s.parse().ok()),
                    field: p["field"].as_str().unwrap_or("").to_string(),
                    reason: v.reason.unwrap_or_default(),
                }
            })
            .collect(),
    })
}

/// Checks the record of the actor's subtree (the whole database for the system actor, `yingji
/// audit verify`, and for an auditor of the root jurisdiction): every hash chain, every head's
/// signature, every signed checkpoint and what it recorded, in one snapshot; with
/// `projections`, also every projection row against the same rebuilt from its events. For an
/// auditor (`read_audit` in their jurisdiction) or the operator.
pub async fn verify_audit(
    app: &App,
    actor: &Actor,
    projections: bool,
) -> Result<AuditReport, AppError> {
    app.require(actor, Permission::ReadAudit, &actor.scope_path, "audit")?;
    let root = match app.store.root_jurisdiction_id().await? {
        Some(id) => app.store.jurisdiction(id).await?.map(|j| j.path),
        None => None,
    };
    let scope = if actor.is_system() || root.as_deref() == Some(actor.scope_path.as_str()) {
        None
    } else {
        Some(actor.scope_path.clone())
    };
    let r = app.store.verify(scope.as_deref()).await?;
    let projections = if projections {
        let path = scope.clone().or(root).unwrap_or_else(|| "/".into());
        Some(crate::replay::check_projections(app, &path).await?)
    } else {
        None
    };
    let intact = r.broken.is_empty()
        && r.checkpoint_problems.is_empty()
        && projections
            .as_ref()
            .is_none_or(|p| p.differences.is_empty());
    Ok(AuditReport {
        intact,
        scope,
        streams: r.streams,
        events: r.events,
        broken: r
            .broken
            .iter()
            .map(|(id, kind, b)| BrokenLink::of(*id, kind, b))
            .collect(),
        signatures_checked: r.signatures_checked,
        checkpoints: r.checkpoints,
        last_checkpoint: r.last_checkpoint.map(|c| CheckpointOut {
            id: c.id,
            at: c.at,
            streams: c.streams,
            signature: c.sig,
        }),
        checkpoint_problems: r.checkpoint_problems,
        projections,
    })
}
