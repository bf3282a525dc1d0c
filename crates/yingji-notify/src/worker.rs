//! The outbox worker. Two stages, each a durable write:
//! 1. *expand*: an outbox intent ("call these people about this") becomes deliveries, one per
//!    person and channel, with deterministic ids (so expanding twice changes nothing); the in-app
//!    one is delivered by being written.
//! 2. *deliver*: due deliveries are claimed under a lease, sent (with their id as the message id /
//!    idempotency key), and marked sent, or failed with exponential backoff, or dead after
//!    `max_attempts`. A worker that dies between sending and marking leaves the lease to expire;
//!    the retry carries the same message id, so a provider that deduplicates delivers once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{Mutex, Notify, Semaphore, broadcast};
use uuid::Uuid;
use yingji_domain::PersonRef;
use yingji_domain::clock::Clock;
use yingji_store::notify::{Delivery, NewDelivery, Outcome};
use yingji_store::{Store, fmt_ts};

use crate::ack::AckKeys;
use crate::channels::{SendError, Sender};
use crate::config::NotifyConfig;

/// The payload of an outbox intent that reaches people: whom (people of the directory, each on
/// their channels, and addresses given for one message, such as a petitioner's contact), what
/// (subject and text, already in the recipients' language) and the owning jurisdiction (whose
/// desk shows it when nobody can be reached).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Intent {
    #[serde(default)]
    pub people: Vec<PersonRef>,
    /// Addresses that belong to no person of the directory (a petitioner's contact), sealed.
    #[serde(default)]
    pub addresses: Vec<DirectAddress>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub incident_id: Option<Uuid>,
    #[serde(default)]
    pub call_id: Option<Uuid>,
    #[serde(default)]
    pub drill: bool,
    #[serde(default)]
    pub jurisdiction_path: String,
    /// Why nobody was found, when the writer knows (shown with the undeliverable record).
    #[serde(default)]
    pub unresolved: Option<String>,
}

/// One channel and address outside the directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct DirectAddress {
    pub channel: String,
    /// Sealed at rest (opened by the [`AddressOpener`] just before sending).
    pub address: String,
}

/// The state of a delivery that has no recipient: kept, and shown on the desk of the owning
/// jurisdiction, instead of being dropped.
pub const UNDELIVERABLE: &str = "undeliverable";

/// A token bucket per channel.
struct Limiter {
    per_second: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
    concurrency: Semaphore,
}

impl Limiter {
    async fn acquire(&self) {
        if self.per_second <= 0.0 {
            return;
        }
        loop {
            let wait = {
                let mut s = self.state.lock().await;
                let now = Instant::now();
                let refill = now.duration_since(s.1).as_secs_f64() * self.per_second;
                s.0 = (s.0 + refill).min(self.burst);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                (1.0 - s.0) / self.per_second
            };
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    pub expanded: usize,
    pub sent: usize,
    pub failed: usize,
    pub dead: usize,
}

pub struct Worker {
    store: Store,
    clock: Arc<dyn Clock>,
    cfg: NotifyConfig,
    sender: Sender,
    keys: AckKeys,
    limiters: std::sync::Mutex<HashMap<String, Arc<Limiter>>>,
    /// Wakes the worker when a commit wrote outbox rows.
    pub wake: Arc<Notify>,
    /// New in-app messages, for live push.
    pub inbox: broadcast::Sender<Delivery>,
    /// Opens an address sealed at rest (a directory phone) just before sending; set by the
    /// server, which holds the data key. Delivery rows keep the sealed value.
    opener: std::sync::RwLock<Option<Arc<AddressOpener>>>,
}

/// Opens a sealed address: `(person, outbox id, sealed) → plain`, or why it cannot. A person's
/// address is bound to the person; an address given for one message (a petitioner's contact)
/// to its outbox row.
pub type AddressOpener = dyn Fn(Option<Uuid>, Uuid, &str) -> Result<String, String> + Send + Sync;

/// The prefix of values sealed at rest (see yingji-server's `sealer.rs`).
const SEALED_PREFIX: &str = "sealed1:";

impl Worker {
    pub fn new(store: Store, clock: Arc<dyn Clock>, cfg: NotifyConfig) -> anyhow::Result<Worker> {
        let sender = Sender::new(cfg.clone())?;
        let keys = AckKeys::new(&cfg.secret, &cfg.base_url);
        Ok(Worker {
            store,
            clock,
            sender,
            keys,
            cfg,
            limiters: std::sync::Mutex::new(HashMap::new()),
            wake: Arc::new(Notify::new()),
            inbox: broadcast::channel(1024).0,
            opener: std::sync::RwLock::new(None),
        })
    }

    pub fn config(&self) -> &NotifyConfig {
        &self.cfg
    }

    pub fn keys(&self) -> &AckKeys {
        &self.keys
    }

    fn limiter(&self, channel: &str) -> Arc<Limiter> {
        let mut m = self.limiters.lock().expect("limiters");
        m.entry(channel.to_string())
            .or_insert_with(|| {
                let l = self.cfg.limits(channel);
                Arc::new(Limiter {
                    per_second: l.per_second,
                    burst: f64::from(l.burst.max(1)),
                    state: Mutex::new((f64::from(l.burst.max(1)), Instant::now())),
                    concurrency: Semaphore::new(l.concurrency.max(1)),
                })
            })
            .clone()
    }

    /// Stage 1: expands pending outbox intents into deliveries.
    pub async fn expand(&self) -> anyhow::Result<usize> {
        let items = self.store.pending_outbox(self.cfg.batch).await?;
        if items.is_empty() {
            return Ok(0);
        }
        let now = self.clock.now();
        let now_s = fmt_ts(now);
        let mut intents = Vec::new();
        let mut people = Vec::new();
        let mut done: Vec<(Uuid, Option<String>)> = Vec::new();
        let mut deliveries: Vec<NewDelivery> = Vec::new();
        for it in &items {
            match serde_json::from_str::<Intent>(&it.payload) {
                Ok(i) if !i.people.is_empty() || !i.addresses.is_empty() => {
                    people.extend(i.people.iter().map(|p| p.person_id));
                    intents.push((it, i));
                }
                Ok(i) => {
                    let why = i
                        .unresolved
                        .clone()
                        .unwrap_or_else(|| "no recipients".into());
                    deliveries.push(undeliverable(it, &i, why, now));
                    done.push((it.id, None));
                }
                Err(e) => {
                    // A payload this worker cannot read still reaches a desk (the root's, when
                    // it names no jurisdiction).
                    let v: serde_json::Value =
                        serde_json::from_str(&it.payload).unwrap_or_default();
                    let i = Intent {
                        subject: it.kind.clone(),
                        jurisdiction_path: v["jurisdiction_path"].as_str().unwrap_or("/").into(),
                        ..Intent::default()
                    };
                    deliveries.push(undeliverable(
                        it,
                        &i,
                        format!("unreadable payload: {e}"),
                        now,
                    ));
                    done.push((it.id, None));
                }
            }
        }
        people.sort();
        people.dedup();
        let channels = self.store.channels_of(&people).await?;
        let mut inapp = Vec::new();
        for (it, i) in &intents {
            for p in &i.people {
                let mut chans: Vec<(String, String)> =
                    vec![("inapp".into(), p.person_id.to_string())];
                chans.extend(
                    channels
                        .get(&p.person_id)
                        .into_iter()
                        .flatten()
                        .filter(|(c, _)| self.sender.has(c))
                        .cloned(),
                );
                let ack_url = i.call_id.map(|c| self.keys.url(c, p.person_id));
                for (ch, addr) in chans {
                    let d = NewDelivery {
                        id: Uuid::new_v5(&it.id, format!("{}/{ch}", p.person_id).as_bytes()),
                        outbox_id: it.id,
                        incident_id: i.incident_id,
                        call_id: i.call_id,
                        jurisdiction_path: i.jurisdiction_path.clone(),
                        person_id: Some(p.person_id),
                        channel: ch.clone(),
                        address: addr,
                        subject: i.subject.clone(),
                        body: i.text.clone(),
                        ack_url: ack_url.clone(),
                        drill: i.drill,
                        state: if ch == "inapp" { "sent" } else { "pending" }.into(),
                        next_at_ms: now.as_millisecond(),
                        sent_at: (ch == "inapp").then(|| now_s.clone()),
                        last_error: None,
                        created_at: now_s.clone(),
                    };
                    if ch == "inapp" {
                        inapp.push(d.clone());
                    }
                    deliveries.push(d);
                }
            }
            for (n, a) in i.addresses.iter().enumerate() {
                if !self.sender.has(&a.channel) {
                    let why = format!("the channel {} is not configured", a.channel);
                    deliveries.push(undeliverable(it, i, why, now));
                    continue;
                }
                deliveries.push(NewDelivery {
                    id: Uuid::new_v5(&it.id, format!("address/{n}/{}", a.channel).as_bytes()),
                    outbox_id: it.id,
                    incident_id: i.incident_id,
                    call_id: None,
                    jurisdiction_path: i.jurisdiction_path.clone(),
                    person_id: None,
                    channel: a.channel.clone(),
                    address: a.address.clone(),
                    subject: i.subject.clone(),
                    body: i.text.clone(),
                    ack_url: None,
                    drill: i.drill,
                    state: "pending".into(),
                    next_at_ms: now.as_millisecond(),
                    sent_at: None,
                    last_error: None,
                    created_at: now_s.clone(),
                });
            }
            done.push((it.id, None));
        }
        self.store
            .record_expansion(deliveries, done, &now_s)
            .await?;
        for d in inapp {
            let _ = self.inbox.send(Delivery {
                id: d.id,
                outbox_id: d.outbox_id,
                incident_id: d.incident_id,
                call_id: d.call_id,
                jurisdiction_path: d.jurisdiction_path,
                person_id: d.person_id,
                channel: d.channel,
                address: d.address,
                subject: d.subject,
                body: d.body,
                ack_url: d.ack_url,
                drill: d.drill,
                state: d.state,
                attempts: 0,
                next_at_ms: d.next_at_ms,
                last_error: None,
                sent_at: d.sent_at,
                created_at: d.created_at,
            });
        }
        Ok(items.len())
    }

    /// Stage 2a: claims due deliveries under a new lease.
    pub async fn claim(&self) -> anyhow::Result<(Uuid, Vec<Delivery>)> {
        let lease = Uuid::now_v7();
        let now = self.clock.now().as_millisecond();
        let claimed = self
            .store
            .claim_deliveries(lease, now, now + self.cfg.lease_ms, self.cfg.batch)
            .await?;
        Ok((lease, claimed))
    }

    /// Sets how sealed addresses are opened at send time.
    pub fn set_opener(&self, f: Arc<AddressOpener>) {
        *self.opener.write().expect("opener lock") = Some(f);
    }

    /// The plain address of a delivery whose stored address is sealed (`None`: it is not).
    fn open_address(&self, d: &Delivery) -> Result<Option<String>, SendError> {
        if !d.address.starts_with(SEALED_PREFIX) {
            return Ok(None);
        }
        let opener = self.opener.read().expect("opener lock").clone();
        match opener {
            Some(f) => f(d.person_id, d.outbox_id, &d.address)
                .map(Some)
                .map_err(|e| SendError::fatal(format!("the sealed address cannot be opened: {e}"))),
            None => Err(SendError::fatal(
                "the address is sealed and this process holds no data key",
            )),
        }
    }

    /// Stage 2b: sends claimed deliveries concurrently, within each channel's limits.
    pub async fn send_all(
        self: &Arc<Self>,
        batch: Vec<Delivery>,
    ) -> Vec<(Delivery, Result<(), SendError>)> {
        let mut set = tokio::task::JoinSet::new();
        for d in batch {
            let me = self.clone();
            set.spawn(async move {
                let lim = me.limiter(&d.channel);
                let _permit = lim.concurrency.acquire().await;
                lim.acquire().await;
                let r = match me.open_address(&d) {
                    Ok(None) => me.sender.send(&d, None).await,
                    Ok(Some(plain)) => {
                        let mut open = d.clone();
                        open.address = plain;
                        me.sender.send(&open, None).await
                    }
                    Err(e) => Err(e),
                };
                (d, r)
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(x) = r {
                out.push(x);
            }
        }
        out
    }

    /// Stage 2c: records what happened, if the lease is still ours.
    pub async fn record(
        &self,
        lease: Uuid,
        results: &[(Delivery, Result<(), SendError>)],
    ) -> anyhow::Result<Round> {
        let now = self.clock.now();
        let now_s = fmt_ts(now);
        let mut round = Round::default();
        let mut outcomes = Vec::new();
        for (d, r) in results {
            match r {
                Ok(()) => {
                    round.sent += 1;
                    outcomes.push((d.id, Outcome::Sent));
                }
                Err(e) => {
                    let dead = e.permanent || d.attempts >= self.cfg.max_attempts;
                    if dead {
                        round.dead += 1;
                        tracing::warn!(delivery = %d.id, channel = %d.channel, error = %e.message, "delivery dead-lettered");
                    } else {
                        round.failed += 1;
                    }
                    let next = now.as_millisecond() + self.cfg.backoff(d.attempts);
                    outcomes.push((
                        d.id,
                        Outcome::Failed {
                            error: e.message.clone(),
                            next_at_ms: next,
                            dead,
                        },
                    ));
                }
            }
        }
        self.store.record_outcomes(lease, &now_s, outcomes).await?;
        Ok(round)
    }

    /// One round: expand, claim, send, record.
    pub async fn run_once(self: &Arc<Self>) -> anyhow::Result<Round> {
        let expanded = self.expand().await?;
        let (lease, batch) = self.claim().await?;
        let results = self.send_all(batch).await;
        let mut round = self.record(lease, &results).await?;
        round.expanded = expanded;
        Ok(round)
    }

    /// Runs until the process ends: a round whenever woken, or every `poll_ms`, and at once
    /// again while rounds find work.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                let busy = match self.run_once().await {
                    Ok(r) => r.expanded + r.sent + r.failed + r.dead > 0,
                    Err(e) => {
                        tracing::warn!(error = %e, "notification round failed");
                        false
                    }
                };
                if !busy {
                    let _ = tokio::time::timeout(
                        Duration::from_millis(self.cfg.poll_ms),
                        self.wake.notified(),
                    )
                    .await;
                }
            }
        })
    }
}

/// The record of a message nobody can receive: no person, no address; the owning
/// jurisdiction's desk lists it (state [`UNDELIVERABLE`], with why).
fn undeliverable(
    it: &yingji_store::notify::OutboxItem,
    i: &Intent,
    why: String,
    now: jiff::Timestamp,
) -> NewDelivery {
    NewDelivery {
        id: Uuid::new_v5(&it.id, b"undeliverable"),
        outbox_id: it.id,
        incident_id: i.incident_id,
        call_id: i.call_id,
        jurisdiction_path: if i.jurisdiction_path.is_empty() {
            "/".into()
        } else {
            i.jurisdiction_path.clone()
        },
        person_id: None,
        channel: "inapp".into(),
        address: String::new(),
        subject: i.subject.clone(),
        body: i.text.clone(),
        ack_url: None,
        drill: i.drill,
        state: UNDELIVERABLE.into(),
        next_at_ms: now.as_millisecond(),
        sent_at: None,
        last_error: Some(why),
        created_at: fmt_ts(now),
    }
}
