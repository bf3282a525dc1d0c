//! The outbox worker. Two stages, each a durable write:
//! 1. *expand*: an outbox intent ("call these people about this") becomes deliveries, one per
//!    person and channel, with deterministic ids (so expanding twice changes nothing); the in-app
//!    one is delivered by being written.
//! 2. *deliver*: due deliveries are claimed under a lease, sent (with their id as the message id /
//!    idempotency key), and each is marked sent, or failed with exponential backoff, or dead
//!    after `max_attempts`, as soon as its own send has finished (not when the whole claimed
//!    batch has). A worker that dies between sending and marking leaves the lease to expire;
//!    the retry carries the same message id, so a provider that deduplicates delivers once.
//!
//! Sends run concurrently, at most `batch` at once (and each channel's `concurrency`), and the
//! loop ([`Worker::spawn`]) does not wait for them: while one destination takes its time,
//! new intents are expanded (in-app messages written) and other deliveries claimed and sent.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::{Mutex, Notify, Semaphore, broadcast};
use tokio::task::JoinSet;
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
    /// The processes sending on this database (`Worker::set_processes`): each takes its share
    /// of the configured rate and burst, so that together they stay within them.
    processes: Arc<AtomicU32>,
}

impl Limiter {
    async fn acquire(&self) {
        if self.per_second <= 0.0 {
            return;
        }
        loop {
            let wait = {
                let share = f64::from(self.processes.load(Ordering::Relaxed).max(1));
                let (rate, burst) = (self.per_second / share, (self.burst / share).max(1.0));
                let mut s = self.state.lock().await;
                let now = Instant::now();
                let refill = now.duration_since(s.1).as_secs_f64() * rate;
                s.0 = (s.0 + refill).min(burst);
                s.1 = now;
                if s.0 >= 1.0 {
                    s.0 -= 1.0;
                    return;
                }
                (1.0 - s.0) / rate
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
    /// Room for deliveries being sent at once (`batch`): a round claims no more than is free.
    room: Arc<Semaphore>,
    /// How many processes send on this database (1 on SQLite): channel limits are shared.
    processes: Arc<AtomicU32>,
}

/// What became of one claimed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Sent,
    Failed,
    Dead,
    /// Given back unsent (its lease would have run out during the send).
    Released,
}

impl Round {
    fn count(&mut self, d: Done) {
        match d {
            Done::Sent => self.sent += 1,
            Done::Failed => self.failed += 1,
            Done::Dead => self.dead += 1,
            Done::Released => {}
        }
    }
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
        let room = Arc::new(Semaphore::new(cfg_room(&cfg)));
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
            room,
            processes: Arc::new(AtomicU32::new(1)),
        })
    }

    pub fn config(&self) -> &NotifyConfig {
        &self.cfg
    }

    /// Sets how many processes send on this database: each keeps to its share of every
    /// channel's rate and burst.
    pub fn set_processes(&self, n: u32) {
        self.processes.store(n.max(1), Ordering::Relaxed);
    }

    pub fn processes(&self) -> u32 {
        self.processes.load(Ordering::Relaxed)
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
                    processes: self.processes.clone(),
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

    /// Stage 2a: claims due deliveries (up to `batch`) under a new lease.
    pub async fn claim(&self) -> anyhow::Result<(Uuid, Vec<Delivery>)> {
        self.claim_up_to(self.cfg.batch).await
    }

    async fn claim_up_to(&self, limit: i64) -> anyhow::Result<(Uuid, Vec<Delivery>)> {
        let lease = Uuid::now_v7();
        let now = self.clock.now().as_millisecond();
        let claimed = self
            .store
            .claim_deliveries(lease, now, now + self.cfg.lease_ms, limit)
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

    /// Sends one delivery once, within its channel's limits, opening a sealed address in memory.
    async fn send_one(&self, d: &Delivery) -> Result<(), SendError> {
        let lim = self.limiter(&d.channel);
        let _permit = lim.concurrency.acquire().await;
        lim.acquire().await;
        self.send_now(d).await
    }

    async fn send_now(&self, d: &Delivery) -> Result<(), SendError> {
        match self.open_address(d) {
            Ok(None) => self.sender.send(d, None).await,
            Ok(Some(plain)) => {
                let mut open = d.clone();
                open.address = plain;
                self.sender.send(&open, None).await
            }
            Err(e) => Err(e),
        }
    }

    /// Sends claimed deliveries concurrently and records nothing: what a worker that dies
    /// before recording has done. The worker itself records each delivery as soon as its send
    /// has finished ([`Worker::run_once`], [`Worker::spawn`]).
    pub async fn send_all(
        self: &Arc<Self>,
        batch: Vec<Delivery>,
    ) -> Vec<(Delivery, Result<(), SendError>)> {
        let mut set = JoinSet::new();
        for d in batch {
            let me = self.clone();
            set.spawn(async move {
                let r = me.send_one(&d).await;
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

    /// The latest moment a send of `channel` claimed at `claimed` may start: its timeout (and a
    /// second to record it) must end before the lease does, or another round could claim and
    /// send it again meanwhile.
    fn latest_start(&self, channel: &str, claimed: Instant) -> Instant {
        let lease = self.cfg.lease_ms.max(0) as u64;
        let timeout = self.cfg.limits(channel).timeout_ms;
        let margin = lease
            .saturating_sub(timeout.saturating_add(1_000))
            .max(lease / 2);
        claimed + Duration::from_millis(margin)
    }

    /// Stage 2b: sends one claimed delivery (when there is room, within its channel's limits)
    /// and records its outcome at once: sent, failed with backoff, or dead; or gives it back
    /// unsent when its lease would run out before the send could finish.
    async fn deliver(
        self: Arc<Self>,
        lease: Uuid,
        d: Delivery,
        claimed: Instant,
        room: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> anyhow::Result<Done> {
        let _room = match room {
            Some(p) => p,
            None => self.room.clone().acquire_owned().await?,
        };
        let lim = self.limiter(&d.channel);
        let _permit = lim.concurrency.acquire().await?;
        lim.acquire().await;
        let now_s = fmt_ts(self.clock.now());
        if Instant::now() > self.latest_start(&d.channel, claimed) {
            self.store
                .record_outcomes(lease, &now_s, vec![(d.id, Outcome::Released)])
                .await?;
            return Ok(Done::Released);
        }
        let r = self.send_now(&d).await;
        self.record(lease, &d, r).await
    }

    /// Stage 2c: records what happened to one delivery, if the lease is still ours.
    async fn record(
        &self,
        lease: Uuid,
        d: &Delivery,
        r: Result<(), SendError>,
    ) -> anyhow::Result<Done> {
        let now = self.clock.now();
        let (outcome, done) = match r {
            Ok(()) => (Outcome::Sent, Done::Sent),
            Err(e) => {
                let dead = e.permanent || d.attempts >= self.cfg.max_attempts;
                if dead {
                    tracing::warn!(delivery = %d.id, channel = %d.channel, error = %e.message, "delivery dead-lettered");
                }
                let next = now.as_millisecond() + self.cfg.backoff(d.attempts);
                (
                    Outcome::Failed {
                        error: e.message,
                        next_at_ms: next,
                        dead,
                    },
                    if dead { Done::Dead } else { Done::Failed },
                )
            }
        };
        self.store
            .record_outcomes(lease, &fmt_ts(now), vec![(d.id, outcome)])
            .await?;
        Ok(done)
    }

    /// Claims as many due deliveries as there is room for and starts delivering each in
    /// `sending`; answers how many were started and whether the claim filled the room (more
    /// may be due).
    async fn start(
        self: &Arc<Self>,
        sending: &mut JoinSet<anyhow::Result<Done>>,
    ) -> anyhow::Result<(usize, bool)> {
        let free = self
            .room
            .available_permits()
            .min(self.cfg.batch.max(1) as usize);
        if free == 0 {
            return Ok((0, true));
        }
        let (lease, batch) = self.claim_up_to(free as i64).await?;
        let claimed = Instant::now();
        let n = batch.len();
        for d in batch {
            // Taken here, not in the task: the next round sees the room this one uses.
            let room = self.room.clone().try_acquire_owned().ok();
            sending.spawn(self.clone().deliver(lease, d, claimed, room));
        }
        Ok((n, n >= free))
    }

    /// One round, waiting for it: expand, claim, send and record (each delivery as its send
    /// finishes).
    pub async fn run_once(self: &Arc<Self>) -> anyhow::Result<Round> {
        let expanded = self.expand().await?;
        let mut sending = JoinSet::new();
        self.start(&mut sending).await?;
        let mut round = Round {
            expanded,
            ..Round::default()
        };
        let mut first_error = None;
        while let Some(r) = sending.join_next().await {
            match r {
                Ok(Ok(d)) => round.count(d),
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(e) => {
                    first_error.get_or_insert(e.into());
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(round),
        }
    }

    /// Runs until the process ends: a round whenever woken, or every `poll_ms`, and at once
    /// again while rounds find work. A round does not wait for its sends: each is recorded
    /// when it finishes, and the next round starts meanwhile (claiming only what there is
    /// room for, and again when a send frees room after a full claim).
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut sending: JoinSet<anyhow::Result<Done>> = JoinSet::new();
            // Of the processes on one database, one expands the outbox (each expansion is
            // idempotent, but every process reading the same rows is wasted work); every
            // process claims and sends deliveries (`SKIP LOCKED`).
            let mut expander =
                yingji_store::leader::Leader::new(self.store.clone(), yingji_store::leader::OUTBOX);
            loop {
                while let Some(r) = sending.try_join_next() {
                    log_finished(r);
                }
                let round = async {
                    let expanded = if expander.lead().await {
                        self.expand().await?
                    } else {
                        0
                    };
                    let (started, full) = self.start(&mut sending).await?;
                    anyhow::Ok((expanded + started > 0, full))
                };
                let (busy, full) = match round.await {
                    Ok(x) => x,
                    Err(e) => {
                        // One line per burst of the same failure (a full disk fails every round).
                        if let Some(folded) = yingji_store::burst::log_once(&e.to_string()) {
                            tracing::warn!(error = %e, folded, "notification round failed");
                        }
                        (false, false)
                    }
                };
                if busy {
                    continue;
                }
                let poll = Duration::from_millis(self.cfg.poll_ms);
                if full && !sending.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(poll) => {}
                        _ = self.wake.notified() => {}
                        r = sending.join_next() => {
                            if let Some(r) = r {
                                log_finished(r);
                            }
                        }
                    }
                } else {
                    let _ = tokio::time::timeout(poll, self.wake.notified()).await;
                }
            }
        })
    }
}

/// The room for concurrent sends: `batch`, at least one.
fn cfg_room(cfg: &NotifyConfig) -> usize {
    cfg.batch.clamp(1, 1 << 20) as usize
}

fn log_finished(r: Result<anyhow::Result<Done>, tokio::task::JoinError>) {
    match r {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "recording a delivery failed"),
        Err(e) => tracing::warn!(error = %e, "a delivery task failed"),
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
