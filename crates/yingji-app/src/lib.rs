//! yingji-app: the application layer between the pure crates (`yingji-plan`, `yingji-domain`)
//! and the adapters (the web API and console in `yingji-server`, the CLI in `yingji`).
//!
//! Every change goes through one command path ([`command`]): authorise (permission and scope),
//! load, decide, build the write set (events, projections, outbox, idempotency record), commit
//! it in one transaction, retry on a version conflict by one rule, then publish the change to
//! live subscribers in scope and wake the notification worker. Adapters turn their input into a
//! typed command and its answer into their own output; they never write to the store.

pub mod accounts;
pub mod actor;
pub mod attachments;
pub mod calls;
pub mod cases;
pub mod command;
pub mod demo;
pub mod directory;
pub mod disputes;
pub mod documents;
pub mod drills;
pub mod error;
pub mod followups;
pub mod incidents;
pub mod notices;
pub mod notify;
pub mod plans;
pub mod records;
pub mod redact;
pub mod releases;
pub mod replay;
pub mod reports;
pub mod representatives;
pub mod reserves;
pub mod resources;
pub mod s3;
pub mod sealer;
pub mod search;
pub mod secrets;
pub mod statistics;
pub mod subjects;
pub mod ticker;
pub mod trust;
pub mod write;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;
use uuid::Uuid;
use yingji_domain::clock::Clock;
use yingji_domain::{ActorRef, PersonRef};
use yingji_plan::Plan;
use yingji_store::bus::BusMessage;
use yingji_store::{Row, Store, StoreError, WriteSet};

pub use actor::Actor;
pub use command::{Authorized, Command, Decided, Idem, Outcome};
pub use error::{AppError, ErrorBody};
pub use yingji_domain::error::ErrorCode;
pub use yingji_domain::policy::Permission;

/// Parsed plans by (plan id, version).
type PlanCache = HashMap<(String, i64), Arc<Plan>>;

/// The application: storage, the clock, configuration, the live bus and the notifier. Cheap
/// to clone; every adapter holds one.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    plans: Arc<RwLock<PlanCache>>,
    /// Sign-in settings and the roles (configurable).
    pub trust: Arc<trust::TrustConfig>,
    /// Seals personal data at rest.
    pub sealer: Arc<sealer::Sealer>,
    /// What was committed, for live pages and streams. Fed by [`App::commit`] only.
    changes: tokio::sync::broadcast::Sender<Change>,
    /// The secret that binds the console's CSRF tokens to a session: the deployment's
    /// (`secrets.rs`) under `serve`, a random one otherwise.
    console_key: Arc<[u8; 32]>,
    /// Case rules per jurisdiction and the working-day calendar (loaded at start).
    pub case_rules: Arc<CaseRules>,
    /// Where attachments are kept and how large they may be.
    pub attachments: Arc<attachments::Settings>,
    /// The document templates (built in, or replaced by `--templates`).
    pub templates: Arc<documents::Templates>,
    /// The notification worker (channels, configuration, ack link keys, live inbox).
    pub notify: Arc<yingji_notify::Worker>,
    /// Sign-ins of one login take turns (striped by login), so that parallel wrong passwords
    /// are each counted before the next is checked and the lockout cannot be outrun.
    sign_in_turns: Arc<[tokio::sync::Mutex<()>]>,
    /// Commands that allocate from one counter take turns (striped by its key; see
    /// `Command::turn`).
    turns: Arc<[tokio::sync::Mutex<()>]>,
    /// Why the last write failed because storage could not take it (a full disk…), until a
    /// write succeeds again: readiness reports it.
    storage_failure: Arc<std::sync::Mutex<Option<String>>>,
    /// Due records the ticker could not process, and how often in a row.
    tick_failures: Arc<ticker::Failures>,
    /// When the ticker last looked at the plans' drill duties (by the app clock).
    drill_duties_at: Arc<std::sync::Mutex<Option<jiff::Timestamp>>>,
    /// Whether this process's ticker leads (of the processes on one database, one ticks).
    ticker_leader: Arc<std::sync::atomic::AtomicBool>,
    /// Set when the process is stopping: readiness turns false and open streams end.
    draining: Arc<tokio::sync::watch::Sender<bool>>,
}

/// One stream that a commit advanced: enough for a live page to decide whether it may see it
/// and whether to refresh.
#[derive(Debug, Clone)]
pub struct Change {
    pub stream_id: Uuid,
    pub stream_kind: String,
    pub jurisdiction_id: Uuid,
    /// The jurisdiction's path: a subscriber whose scope path is a prefix of it may see it.
    pub jurisdiction_path: String,
    /// The kind of command that wrote it (`incident.verify`…), or None for a write that is not
    /// a command (none today but the store's own maintenance).
    pub command: Option<&'static str>,
}

impl Change {
    /// The stream kind of [`Change::resync`].
    pub const RESYNC: &'static str = "*";

    /// Not one stream but "anything may have changed" (the bus was lost meanwhile): every
    /// live page refreshes, whatever its scope.
    pub fn resync() -> Change {
        Change {
            stream_id: Uuid::nil(),
            stream_kind: Change::RESYNC.to_string(),
            jurisdiction_id: Uuid::nil(),
            jurisdiction_path: String::from("/"),
            command: None,
        }
    }
}

/// 32 random bytes (256 bits) from the operating system's generator.
fn random_key() -> [u8; 32] {
    use chacha20poly1305::KeyInit;
    chacha20poly1305::ChaCha20Poly1305::generate_key(&mut chacha20poly1305::aead::OsRng).into()
}

/// The case configuration and the working-day calendar.
pub struct CaseRules {
    pub config: yingji_domain::case::CaseConfig,
    pub calendar: yingji_domain::calendar::Calendar,
}

impl Default for CaseRules {
    fn default() -> Self {
        CaseRules {
            config: Default::default(),
            calendar: yingji_domain::calendar::Calendar::builtin(),
        }
    }
}

/// The holidays of duty rosters: one calendar with cases ([`App::holidays`]).
#[derive(Clone)]
pub struct RosterHolidays {
    rules: Arc<CaseRules>,
    /// The notification configuration's `holidays` (deprecated; added to the calendar's).
    extra: yingji_domain::roster::HolidaySet,
}

impl yingji_domain::roster::HolidayCalendar for RosterHolidays {
    fn is_holiday(&self, d: jiff::civil::Date) -> bool {
        self.rules.calendar.is_holiday(d) || self.extra.is_holiday(d)
    }

    fn holidays_between(&self, from: jiff::civil::Date, until: jiff::civil::Date) -> i64 {
        let extra = self
            .extra
            .0
            .iter()
            .filter(|d| (from..until).contains(*d) && !self.rules.calendar.is_holiday(**d))
            .count() as i64;
        self.rules.calendar.holidays_between(from, until) + extra
    }
}

/// The actor under which the server itself records what falls due.
pub fn system_actor() -> ActorRef {
    ActorRef {
        person_id: Uuid::from_u128(1),
        name: "yingji".into(),
    }
}

impl App {
    /// An application with the default roles, an in-memory data key and the
    /// zero-configuration notifier (in-app inbox, webhook and robot channels; a random
    /// link-signing key); `serve` sets the configured ones with `with_trust`, `with_sealer`
    /// and `with_notify`.
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        let cfg = yingji_notify::NotifyConfig {
            secret: format!("{}{}", Uuid::now_v7().simple(), Uuid::now_v7().simple()),
            ..Default::default()
        };
        Self::with_notify(store, clock, cfg).expect("the default notifier starts")
    }

    /// An application with a notifier configured from `cfg`.
    pub fn with_notify(
        store: Store,
        clock: Arc<dyn Clock>,
        cfg: yingji_notify::NotifyConfig,
    ) -> anyhow::Result<Self> {
        let notify = Arc::new(yingji_notify::Worker::new(
            store.clone(),
            clock.clone(),
            cfg,
        )?);
        let app = App {
            store,
            clock,
            plans: Arc::new(RwLock::new(HashMap::new())),
            trust: Arc::new(trust::TrustConfig::default()),
            sealer: Arc::new(sealer::Sealer::ephemeral()),
            changes: tokio::sync::broadcast::channel(1024).0,
            console_key: Arc::new(random_key()),
            case_rules: Arc::new(CaseRules::default()),
            templates: Arc::new(documents::Templates::default()),
            attachments: Arc::default(),
            notify,
            sign_in_turns: (0..64).map(|_| tokio::sync::Mutex::new(())).collect(),
            turns: (0..64).map(|_| tokio::sync::Mutex::new(())).collect(),
            storage_failure: Arc::default(),
            tick_failures: Arc::default(),
            drill_duties_at: Arc::default(),
            ticker_leader: Arc::default(),
            draining: Arc::new(tokio::sync::watch::channel(false).0),
        };
        app.give_notifier_the_key();
        Ok(app)
    }

    /// Whether the ticker should look at the plans' drill duties now: at most once a minute
    /// (by the app clock), as there is one per plan.
    pub fn drill_duties_due(&self, now: jiff::Timestamp) -> bool {
        let mut last = self
            .drill_duties_at
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|t| now.duration_since(t).as_secs() < 60 && now >= t) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// Whether the server can serve now (readiness): the database answers and the last write
    /// did not fail for want of storage. `Err` says why not.
    pub async fn ready(&self) -> Result<(), String> {
        if self.is_draining() {
            return Err("draining: this process is stopping".into());
        }
        if let Some(why) = self
            .storage_failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(format!("the last write failed: {why}"));
        }
        self.store
            .ping()
            .await
            .map_err(|e| format!("the database does not answer: {e}"))
    }

    /// The turn of one login's sign-in (see `sign_in_turns`).
    pub async fn sign_in_turn(&self, login: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let h = login.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        self.sign_in_turns[(h % self.sign_in_turns.len() as u64) as usize]
            .lock()
            .await
    }

    /// The turn of the commands allocating from one counter (see `Command::turn`).
    pub async fn turn(&self, key: Uuid) -> tokio::sync::MutexGuard<'_, ()> {
        let h = (key.as_u128() ^ (key.as_u128() >> 64)) as u64;
        self.turns[(h % self.turns.len() as u64) as usize]
            .lock()
            .await
    }

    pub fn with_trust(mut self, t: trust::TrustConfig) -> Self {
        self.trust = Arc::new(t);
        self
    }

    pub fn with_sealer(mut self, s: sealer::Sealer) -> Self {
        self.sealer = Arc::new(s);
        self.give_notifier_the_key();
        self
    }

    /// Uses this case configuration and calendar instead of the defaults.
    pub fn with_case_rules(mut self, rules: CaseRules) -> Self {
        self.case_rules = Arc::new(rules);
        self
    }

    /// Uses these document templates.
    pub fn with_attachments(mut self, settings: attachments::Settings) -> Self {
        self.attachments = Arc::new(settings);
        self
    }

    pub fn with_templates(mut self, templates: documents::Templates) -> Self {
        self.templates = Arc::new(templates);
        self
    }

    /// Uses this CSRF key (the deployment's: `secrets.rs`) instead of one of this process.
    pub fn with_console_key(mut self, key: [u8; 32]) -> Self {
        self.console_key = Arc::new(key);
        self
    }

    /// The secret the console derives its CSRF tokens from.
    pub fn console_key(&self) -> &[u8; 32] {
        &self.console_key
    }

    /// Directory phones and the contacts notices are sent to are sealed at rest; the notifier
    /// opens them only to send. The store signs the audit record with keys derived from the
    /// same data key.
    fn give_notifier_the_key(&self) {
        self.store.set_audit_keys(self.sealer.audit_keys());
        self.notify.set_opener(self.address_opener());
    }

    /// Opens an address sealed at rest for the notifier: a directory phone (bound to its
    /// person) or a contact sealed for one notice (bound to its outbox row).
    pub fn address_opener(&self) -> Arc<yingji_notify::AddressOpener> {
        let sealer = self.sealer.clone();
        Arc::new(move |person, outbox_id, sealed| {
            let aad = match person {
                Some(p) => phone_aad(p),
                None => notices::notice_aad(outbox_id),
            };
            sealer.open(sealed, &aad).map_err(|e| e.to_string())
        })
    }

    /// Commits a write set and, once it is durable, tells live subscribers which streams
    /// moved and wakes the notification worker when the write queued messages. Every write of
    /// the application goes through here (the command runner, the ticker, sign-in).
    pub async fn commit(&self, ws: WriteSet) -> Result<(), StoreError> {
        self.commit_command(ws, None).await
    }

    /// [`App::commit`] for a command of this kind (the runner's).
    pub(crate) async fn commit_command(
        &self,
        mut ws: WriteSet,
        command: Option<&'static str>,
    ) -> Result<(), StoreError> {
        // Every notice gets its recipients and text now, on the state of this moment.
        notices::address(self, &mut ws)
            .await
            .map_err(|e| StoreError::Other(anyhow::anyhow!("addressing notices: {e}")))?;
        let mut moved: Vec<(Uuid, String, Uuid)> = Vec::new();
        for e in &ws.events {
            let v = &e.envelope;
            if !moved.iter().any(|c| c.0 == v.stream_id) {
                moved.push((v.stream_id, v.stream_kind.clone(), v.jurisdiction_id));
            }
        }
        // New outbox rows, or a delivery put back in the queue.
        let outbox = ws
            .rows
            .iter()
            .any(|r| matches!(r, Row::Outbox(_) | Row::Delivery(_)));
        let mut changes = Vec::with_capacity(moved.len());
        for (stream_id, stream_kind, jurisdiction_id) in moved {
            // A jurisdiction this write creates is not stored yet: its path is in the write.
            let created = ws.rows.iter().find_map(|r| match r {
                Row::Jurisdiction(j) if j.id == jurisdiction_id => Some(j.path.clone()),
                _ => None,
            });
            let jurisdiction_path = match created {
                Some(p) => p,
                None => match self.store.jurisdiction(jurisdiction_id).await {
                    Ok(Some(j)) => j.path,
                    // A stream outside any jurisdiction (the system's own) is seen by no one
                    // but the root.
                    _ => String::from("/"),
                },
            };
            changes.push(Change {
                stream_id,
                stream_kind,
                jurisdiction_id,
                jurisdiction_path,
                command,
            });
        }
        // Other processes on the database hear of it in the same transaction.
        if outbox {
            ws.bus.push(BusMessage::Outbox);
        }
        ws.bus.extend(changes.iter().map(|c| BusMessage::Change {
            stream_id: c.stream_id,
            stream_kind: c.stream_kind.clone(),
            jurisdiction_id: c.jurisdiction_id,
            jurisdiction_path: c.jurisdiction_path.clone(),
            command: c.command.map(str::to_string),
        }));
        match self.store.commit(ws).await {
            Ok(()) => {
                let mut f = self
                    .storage_failure
                    .lock()
                    .unwrap_or_else(|p| p.into_inner());
                if f.is_some() {
                    tracing::info!("storage takes writes again");
                    *f = None;
                }
            }
            Err(e) => {
                let text = format!("{e:#}");
                if matches!(e, StoreError::Unavailable(_))
                    || yingji_store::is_unavailable_text(&text)
                {
                    *self
                        .storage_failure
                        .lock()
                        .unwrap_or_else(|p| p.into_inner()) = Some(text);
                }
                return Err(e);
            }
        }
        if outbox {
            self.notify.wake.notify_one();
        }
        for c in changes {
            // No receiver (no open live page) is not an error.
            let _ = self.changes.send(c);
        }
        Ok(())
    }

    /// Joins the change bus of the processes sharing this database (PostgreSQL; nothing on
    /// SQLite): what another process commits reaches this one's live pages and inbox streams
    /// as its own commits do, and its directory changes drop this one's cache (the store does
    /// that). After the bus was lost, every live page is told to refresh. Returns once this
    /// process listens.
    pub async fn join_bus(&self) -> Result<(), StoreError> {
        if self.store.backend() != yingji_store::Backend::Postgres {
            return Ok(());
        }
        let mut rx = self.store.bus();
        self.store.listen().await?;
        // Channel rate limits are shared: each process sends its share of them.
        let app = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                every.tick().await;
                if let Ok(n) = app.store.processes().await
                    && n != app.notify.processes()
                {
                    tracing::info!(processes = n, "processes sending on this database");
                    app.notify.set_processes(n);
                }
            }
        });
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(m) => app.heard(m).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        app.heard(BusMessage::Resync).await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Ok(())
    }

    /// One message from another process (or the bus's own resync).
    async fn heard(&self, m: BusMessage) {
        match m {
            BusMessage::Change {
                stream_id,
                stream_kind,
                jurisdiction_id,
                jurisdiction_path,
                command,
            } => {
                let command =
                    command.and_then(|k| command::COMMAND_KINDS.iter().copied().find(|c| *c == k));
                let _ = self.changes.send(Change {
                    stream_id,
                    stream_kind,
                    jurisdiction_id,
                    jurisdiction_path,
                    command,
                });
            }
            BusMessage::Inbox { delivery_id } => match self.store.delivery(delivery_id).await {
                Ok(Some(d)) => {
                    let _ = self.notify.inbox.send(d);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "reading an in-app message from the bus"),
            },
            BusMessage::Directory => {}
            // Another process queued messages: if this one expands the outbox, now.
            BusMessage::Outbox => self.notify.wake.notify_one(),
            BusMessage::Resync => {
                let _ = self.changes.send(Change::resync());
            }
        }
    }

    /// Listens to what is committed from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// The process is stopping (SIGTERM): readiness answers 503 from now on and open live
    /// streams end, so that the drain does not wait for them.
    pub fn start_draining(&self) {
        self.draining.send_replace(true);
    }

    pub fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// Resolves once the process is stopping.
    pub async fn until_draining(&self) {
        let mut rx = self.draining.subscribe();
        let _ = rx.wait_for(|d| *d).await;
    }

    /// Whether this process's ticker leads now (`ticker::spawn`).
    pub fn is_ticker_leader(&self) -> bool {
        self.ticker_leader
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set_ticker_leader(&self, leads: bool) {
        self.ticker_leader
            .store(leads, std::sync::atomic::Ordering::Relaxed);
    }

    /// Live pages and inbox streams open on this process now.
    pub fn live_subscribers(&self) -> usize {
        self.changes.receiver_count() + self.notify.inbox.receiver_count()
    }

    /// A plan version, parsed once and cached.
    pub async fn plan(&self, plan_id: &str, version: i64) -> Result<Arc<Plan>, AppError> {
        let key = (plan_id.to_string(), version);
        if let Some(p) = self.plans.read().expect("plan cache").get(&key) {
            return Ok(p.clone());
        }
        let row = self
            .store
            .plan_version(plan_id, version)
            .await?
            .ok_or_else(|| AppError::not_found("plan version"))?;
        let checked = yingji_plan::load(&row.source);
        let plan = checked.usable().cloned().ok_or_else(|| {
            AppError::internal(format!("stored plan {plan_id} v{version} no longer checks"))
        })?;
        let plan = Arc::new(plan);
        self.plans
            .write()
            .expect("plan cache")
            .insert(key, plan.clone());
        Ok(plan)
    }

    /// A jurisdiction the actor may see (their own or one below it); anything else is "not
    /// found", so that its existence does not leak.
    pub async fn scoped_jurisdiction(
        &self,
        actor: &Actor,
        id: Uuid,
        what: &str,
    ) -> Result<yingji_store::JurisdictionRow, AppError> {
        self.store
            .jurisdiction(id)
            .await?
            .filter(|j| actor.sees(&j.path))
            .ok_or_else(|| AppError::not_found(what))
    }

    /// The days a duty roster's holiday rotation applies on: the public holidays of the
    /// working-day calendar that cases count with (never a 调休 working weekend), plus the
    /// deprecated `holidays` list of the notification configuration, when it names any.
    pub fn holidays(&self) -> RosterHolidays {
        RosterHolidays {
            rules: self.case_rules.clone(),
            extra: yingji_domain::roster::HolidaySet(
                self.notify.config().holidays.iter().copied().collect(),
            ),
        }
    }

    /// Whether a person's account is disabled (a person without an account is not).
    pub async fn disabled(&self, person_id: Uuid) -> Result<bool, AppError> {
        Ok(self
            .store
            .account(person_id)
            .await?
            .is_some_and(|a| a.disabled))
    }

    /// Who holds each post in a jurisdiction now (nobody whose account is disabled): principals, or the deputies when no
    /// principal holds the post; a duty roster decides its post.
    pub async fn holders(
        &self,
        jurisdiction_id: Uuid,
    ) -> Result<HashMap<String, Vec<PersonRef>>, AppError> {
        let mut principals: HashMap<String, Vec<PersonRef>> = HashMap::new();
        let mut deputies: HashMap<String, Vec<PersonRef>> = HashMap::new();
        for (post, person_id, name, deputy) in self.store.holders_in(jurisdiction_id).await? {
            // A disabled person holds no post for calling: their deputy is called instead.
            if self.disabled(person_id).await? {
                continue;
            }
            let target = if deputy {
                &mut deputies
            } else {
                &mut principals
            };
            target
                .entry(post)
                .or_default()
                .push(PersonRef { person_id, name });
        }
        for (post, d) in deputies {
            principals.entry(post).or_insert(d);
        }
        let now = self.clock.now();
        let cal = self.holidays();
        for (post, body) in self.store.rosters_in(jurisdiction_id).await? {
            let Ok(r) = serde_json::from_str::<yingji_domain::roster::Roster>(&body) else {
                continue;
            };
            let mut on = r.on_duty(now, &cal).people;
            let mut kept = Vec::with_capacity(on.len());
            for p in on.drain(..) {
                if !self.disabled(p.person_id).await? {
                    kept.push(p);
                }
            }
            if !kept.is_empty() {
                principals.insert(post, kept);
            }
        }
        Ok(principals)
    }
}

/// The associated data that binds a sealed directory phone to its person.
pub fn phone_aad(person_id: Uuid) -> String {
    format!("people.phone:{person_id}")
}

/// JSON already serialised: answered as `application/json` without being parsed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

impl JsonText {
    /// A value as JSON text.
    pub fn of<T: serde::Serialize>(v: &T) -> JsonText {
        JsonText(serde_json::to_string(v).unwrap_or_else(|_| "null".into()))
    }
}

impl From<Value> for JsonText {
    fn from(v: Value) -> JsonText {
        JsonText(v.to_string())
    }
}

impl From<&Value> for JsonText {
    fn from(v: &Value) -> JsonText {
        JsonText(v.to_string())
    }
}

/// A copy of stored text (an incident's body kept as its idempotency record).
impl From<&JsonText> for JsonText {
    fn from(t: &JsonText) -> JsonText {
        t.clone()
    }
}
