//! The one command path.
//!
//! A [`Command`] is one typed action on one aggregate (report an incident, approve a case,
//! submit a nil report…). [`App::execute`] runs every command the same way:
//!
//! 1. a known Idempotency-Key replays the stored answer (a different request with it is
//!    refused);
//! 2. the command's `run` loads what it needs, authorises the actor through
//!    [`App::authorize`] (a [`Decided`] cannot be made without the [`Authorized`] proof it
//!    returns), decides, and builds the write set — events, projections, outbox, all in one;
//! 3. the write set and the idempotency record are committed in one transaction
//!    ([`App::commit`]), which publishes the moved streams to live subscribers and wakes the
//!    notification worker;
//! 4. a retryable conflict (the stream advanced, a number was taken meanwhile —
//!    [`yingji_store::Conflict::is_retryable`]) runs step 2 again on fresh state, a bounded
//!    number of times; a concurrent request with the same Idempotency-Key is answered as it was.
//!
//! [`App::would_accept`] runs step 2 without writing: the console offers an action exactly
//! when this says the command would be accepted from the viewer.

use std::future::Future;

use uuid::Uuid;
use yingji_domain::error::ErrorCode;
use yingji_domain::policy::Permission;
use yingji_store::{Conflict, IdempotencyRecord, StoreError, WriteSet, fmt_ts};

use crate::{Actor, App, AppError, JsonText};

/// How many times a command is decided before a conflict is given up on (the first attempt
/// and the retries after it).
pub const ATTEMPTS: usize = 5;

/// Proof that an actor's permission was checked for the jurisdiction a command touches. Only
/// [`App::authorize`] makes one.
#[derive(Debug, Clone)]
pub struct Authorized {
    path: String,
}

impl Authorized {
    /// The jurisdiction path the permission was checked for.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// What one attempt of a command decided: the writes and the answer.
pub struct Decided<O> {
    ws: WriteSet,
    output: O,
}

impl<O> Decided<O> {
    /// Writes with their answer; `auth` shows that the permission was checked.
    pub fn new(auth: Authorized, ws: WriteSet, output: O) -> Self {
        let _ = auth;
        Decided { ws, output }
    }

    /// Nothing to write (the command changes nothing now, such as a repeated
    /// acknowledgement); the answer is given as it is.
    pub fn nothing(auth: Authorized, output: O) -> Self {
        Self::new(auth, WriteSet::default(), output)
    }

    /// The answer (a command that builds on another's decision reads it).
    pub fn output(&self) -> &O {
        &self.output
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        is_empty(&self.ws)
    }

    /// The same writes with another answer.
    pub fn map<P>(self, f: impl FnOnce(O) -> P) -> Decided<P> {
        Decided {
            ws: self.ws,
            output: f(self.output),
        }
    }

    /// The writes, to add to them (a command that builds on another's decision).
    pub fn writes(&mut self) -> &mut WriteSet {
        &mut self.ws
    }
}

/// Every kind of command, as `<aggregate>.<action>` (what [`Command::kind`] answers). The
/// runner refuses, in debug builds, a command whose kind is not listed, so the list — and the
/// test that runs every kind and watches the live bus — cannot silently miss one.
pub const COMMAND_KINDS: &[&str] = &[
    "incident.report",
    "incident.verify",
    "incident.unfounded",
    "incident.assess",
    "incident.warning",
    "incident.lift-warning",
    "incident.activate",
    "incident.updates",
    "incident.regrade-accept",
    "incident.regrade-decline",
    "incident.escalate",
    "incident.coercive-steps",
    "incident.coercive-approve",
    "incident.coercive-refuse",
    "incident.consultations",
    "incident.end",
    "incident.obligations",
    "incident.fulfil",
    "incident.review",
    "drill.start",
    "drill.inject",
    "drill.stop",
    "drill.evaluate",
    "drill.remind",
    "plan.remind_revision",
    "representative.record",
    "representative.withdraw",
    "representative.reveal",
    "reserve.create",
    "reserve.move",
    "attachment.add",
    "directive.record",
    "directive.answer",
    "directive.tick",
    "sanction.record",
    "team.create",
    "team.readiness",
    "budget.create",
    "budget.spend",
    "incident.corrective-done",
    "incident.corrective-link",
    "incident.close",
    "incident.upward-report",
    "incident.document",
    "incident.tick",
    "task.acknowledge",
    "task.start",
    "task.done",
    "task.cancel",
    "callout.tick",
    "call.acknowledge",
    "message.acknowledge",
    "delivery.retry",
    "person.channels",
    "roster.set",
    "plan.upload",
    "case.register",
    "case.classify",
    "case.propose",
    "case.approve",
    "case.route",
    "case.lead",
    "case.extension-request",
    "case.extension-decision",
    "case.reply",
    "case.follow-up",
    "case.link",
    "case.supervise",
    "case.tick",
    "case.reveal",
    "case.purge",
    "case.document",
    "round.open",
    "round.submit",
    "dispute.register",
    "dispute.assign",
    "dispute.result",
    "dispute.follow-up",
    "dispute.report-upward",
    "dispute.close",
    "release.draft",
    "release.approve",
    "release.reject",
    "release.publish",
    "report.submit",
    "report.remind",
    "jurisdiction.create",
    "person.create",
    "person.reveal",
    "holder.assign",
    "holder.remove",
    "account.sign-in",
    "account.token-sign-in",
    "account.sign-out",
    "account.password",
    "account.set",
    "account.disable",
    "account.enable",
    "token.create",
    "token.revoke",
    "grant.add",
    "grant.remove",
];

/// One typed action. Its fields are its validated input.
pub trait Command: Sync {
    /// What the command answers.
    type Output: Send;

    /// Which kind of command this is (`<aggregate>.<action>`, one of [`COMMAND_KINDS`]).
    fn kind(&self) -> &'static str;

    /// The status a fresh answer carries (201 when the command creates a record).
    fn status(&self) -> u16 {
        200
    }

    /// The status of this answer, when it depends on what the command did (an upload that
    /// stored nothing new answers 200, not 201). By default [`Command::status`].
    fn status_of(&self, output: &Self::Output) -> u16 {
        let _ = output;
        self.status()
    }

    /// One attempt: load (fresh on every attempt), authorise, decide, build the writes.
    fn run(
        &self,
        app: &App,
        actor: &Actor,
    ) -> impl Future<Output = Result<Decided<Self::Output>, AppError>> + Send;

    /// The answer as JSON: what the API sends and what an idempotent replay sends again.
    fn respond(&self, output: &Self::Output) -> JsonText;

    /// A counter the command allocates from (a jurisdiction's case numbers), if any: commands
    /// with the same one take turns in this process, from their first read to their commit,
    /// so that they do not all read the same last number and conflict.
    fn turn(&self) -> Option<Uuid> {
        None
    }
}

/// An Idempotency-Key with the hash of the request it came with.
#[derive(Debug, Clone)]
pub struct Idem {
    pub key: String,
    pub request_hash: String,
}

/// What `execute` answers.
#[derive(Debug)]
pub enum Outcome<O> {
    /// The command ran now (or changed nothing).
    Done {
        status: u16,
        output: O,
        body: JsonText,
    },
    /// The same request was answered before: the stored answer, byte for byte.
    Replayed { status: u16, body: JsonText },
}

impl<O> Outcome<O> {
    pub fn status(&self) -> u16 {
        match self {
            Outcome::Done { status, .. } | Outcome::Replayed { status, .. } => *status,
        }
    }

    pub fn body(&self) -> &JsonText {
        match self {
            Outcome::Done { body, .. } | Outcome::Replayed { body, .. } => body,
        }
    }

    pub fn into_body(self) -> JsonText {
        match self {
            Outcome::Done { body, .. } | Outcome::Replayed { body, .. } => body,
        }
    }

    /// The fresh output (None for a replay).
    pub fn output(self) -> Option<O> {
        match self {
            Outcome::Done { output, .. } => Some(output),
            Outcome::Replayed { .. } => None,
        }
    }
}

impl App {
    /// Checks that the actor may do what `p` allows in the jurisdiction at `path`: outside
    /// the actor's subtree it is "not found" (`what`), inside it without a role allowing `p`
    /// "forbidden". The proof it returns is what lets a command decide.
    pub fn authorize(
        &self,
        actor: &Actor,
        p: Permission,
        path: &str,
        what: &str,
    ) -> Result<Authorized, AppError> {
        self.require(actor, p, path, what)?;
        Ok(Authorized {
            path: path.to_string(),
        })
    }

    /// A person acting on what is addressed to them (acknowledging their own call, reading
    /// their own inbox): no role is needed; the command itself refuses anyone else.
    pub fn authorize_own(&self, actor: &Actor, path: &str) -> Authorized {
        let _ = actor;
        Authorized {
            path: path.to_string(),
        }
    }

    /// Runs a command on the one command path (see the module's documentation).
    pub async fn execute<C: Command>(
        &self,
        actor: &Actor,
        idem: Option<&Idem>,
        cmd: &C,
    ) -> Result<Outcome<C::Output>, AppError> {
        debug_assert!(
            COMMAND_KINDS.contains(&cmd.kind()),
            "command kind `{}` is not in COMMAND_KINDS",
            cmd.kind()
        );
        if let Some(i) = idem
            && let Some(rec) = self.store.idempotency(actor.person_id, &i.key).await?
        {
            return replay(i, rec);
        }
        let _turn = match cmd.turn() {
            Some(key) => Some(self.turn(key).await),
            None => None,
        };
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                // Another writer (another process) took the record first: wait a little,
                // each a different while, before deciding again.
                let jitter = (Uuid::new_v4().as_u128() % 1000) as u64;
                tokio::time::sleep(std::time::Duration::from_micros(
                    jitter * (1 << attempt.min(6)),
                ))
                .await;
            }
            let Decided { mut ws, output } = cmd.run(self, actor).await?;
            let body = cmd.respond(&output);
            let status = cmd.status_of(&output);
            if is_empty(&ws) {
                return Ok(Outcome::Done {
                    status,
                    output,
                    body,
                });
            }
            if let Some(i) = idem {
                ws.idempotency = Some(IdempotencyRecord {
                    actor_id: actor.person_id,
                    key: i.key.clone(),
                    request_hash: i.request_hash.clone(),
                    status: i64::from(status),
                    response: body.0.clone(),
                    created_at: fmt_ts(self.clock.now()),
                });
            }
            match self.commit_command(ws, Some(cmd.kind())).await {
                Ok(()) => {
                    return Ok(Outcome::Done {
                        status,
                        output,
                        body,
                    });
                }
                Err(StoreError::Conflict(c)) if c.is_retryable() => continue,
                Err(StoreError::Conflict(Conflict::Idempotency)) if idem.is_some() => {
                    // A concurrent request with the same key committed first: answer as it
                    // did.
                    let i = idem.expect("checked");
                    return match self.store.idempotency(actor.person_id, &i.key).await? {
                        Some(rec) => replay(i, rec),
                        None => Err(AppError::internal("idempotency record vanished")),
                    };
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AppError::new(
            ErrorCode::Conflict,
            "the record is changing too fast; retry",
        ))
    }

    /// Whether the command would be accepted from this actor now: authorised and decided,
    /// not written.
    pub async fn would_accept<C: Command>(&self, actor: &Actor, cmd: &C) -> bool {
        cmd.run(self, actor).await.is_ok()
    }
}

fn is_empty(ws: &WriteSet) -> bool {
    ws.events.is_empty() && ws.heads.is_empty() && ws.rows.is_empty()
}

fn replay<O>(i: &Idem, rec: IdempotencyRecord) -> Result<Outcome<O>, AppError> {
    if rec.request_hash != i.request_hash {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "this Idempotency-Key was already used for a different request",
        ));
    }
    Ok(Outcome::Replayed {
        status: u16::try_from(rec.status).unwrap_or(200),
        body: JsonText(rec.response),
    })
}
