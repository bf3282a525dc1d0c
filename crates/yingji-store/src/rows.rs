//! What a write contains, how it is applied inside a transaction, and the read queries.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};
use uuid::Uuid;
use yingji_domain::audit::StoredEvent;

use crate::sql::expand;
use crate::{Backend, Conflict, Result, Store, StoreError, parse_uuid};

/// Everything one request changes, committed atomically.
#[derive(Debug, Default, Clone)]
pub struct WriteSet {
    pub events: Vec<StoredEvent>,
    pub heads: Vec<StreamHead>,
    pub rows: Vec<Row>,
    pub idempotency: Option<IdempotencyRecord>,
    /// What other processes are told when this write commits (`bus.rs`; PostgreSQL only).
    pub bus: Vec<crate::bus::BusMessage>,
}

/// Advances a stream from `expected_version` (0: the stream is new) to `new_version`.
#[derive(Debug, Clone)]
pub struct StreamHead {
    pub id: Uuid,
    pub kind: String,
    pub expected_version: i64,
    pub new_version: i64,
    pub head_hash: String,
    /// The jurisdiction of the stream's newest events (what a scoped `audit verify` goes by).
    pub jurisdiction_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub enum Row {
    Incident(IncidentRow),
    /// Inserts or updates the task rows of one incident.
    Tasks {
        incident_id: Uuid,
        tasks: Vec<TaskRow>,
    },
    Jurisdiction(JurisdictionRow),
    Person(PersonRow),
    PostHolder(PostHolderRow),
    RemovePostHolder {
        jurisdiction_id: Uuid,
        post_id: String,
        person_id: Uuid,
    },
    Plan(PlanRow),
    Outbox(OutboxRow),
    Call(crate::writes::CallWrite),
    Case(crate::writes::CaseWrite),
    Screening(crate::writes::ScreeningWrite),
    Release(crate::writes::ReleaseWrite),
    Record(crate::writes::RecordWrite),
    Report(crate::writes::ReportWrite),
    Account(crate::writes::AccountWrite),
    Directory(crate::writes::DirectoryWrite),
    Delivery(crate::writes::DeliveryWrite),
    /// A data subject's key (crypto-shredding).
    SubjectKey(crate::writes::SubjectKeyWrite),
    /// Any other statement, written once with `?` placeholders for both backends. New query
    /// tables use this rather than a variant of their own.
    Sql(Stmt),
}

/// One SQL statement with its arguments, for both backends (`?` placeholders; no `?` inside
/// string literals). `expect_rows`, when set, turns a different affected-row count into a
/// `Conflict(conflict)` error (optimistic checks such as "still pending").
#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: std::borrow::Cow<'static, str>,
    pub args: Vec<Val>,
    pub expect_rows: Option<u64>,
    pub conflict: Conflict,
    /// The conflict reported when the statement hits a unique constraint.
    pub unique: Option<Conflict>,
}

impl Stmt {
    /// A statement; only the store builds them (callers use typed rows and writes).
    pub(crate) fn new(sql: impl Into<std::borrow::Cow<'static, str>>, args: Vec<Val>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args,
            expect_rows: None,
            conflict: Conflict::RowCount,
            unique: None,
        }
    }

    /// Reports a unique-constraint violation as this conflict.
    pub fn on_unique(mut self, c: Conflict) -> Stmt {
        self.unique = Some(c);
        self
    }

    pub(crate) fn check_rows(&self, n: u64) -> Result<()> {
        match self.expect_rows {
            Some(want) if want != n => Err(StoreError::Conflict(self.conflict)),
            _ => Ok(()),
        }
    }

    /// Fails the write with `Conflict(c)` unless exactly `n` rows are affected.
    pub fn expect(mut self, n: u64, c: Conflict) -> Stmt {
        self.expect_rows = Some(n);
        self.conflict = c;
        self
    }
}

#[cfg(feature = "testing")]
impl Stmt {
    /// A raw statement, for the store's own integration tests only (the `testing` feature,
    /// enabled by its dev-dependencies; nothing else may enable it — CI checks).
    #[doc(hidden)]
    pub fn raw(sql: impl Into<std::borrow::Cow<'static, str>>, args: Vec<Val>) -> Stmt {
        Stmt::new(sql, args)
    }
}

impl From<Stmt> for Row {
    fn from(s: Stmt) -> Row {
        Row::Sql(s)
    }
}

/// The SQL type of a bound value. SQLite stores ids, times, dates and JSON as text and flags as
/// 0/1; PostgreSQL has a column type for each (see `sql.rs` for how they are bound and read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlType {
    Text,
    Int,
    Real,
    Bool,
    Uuid,
    /// A moment, as fixed-width UTC text ([`crate::fmt_ts`]).
    Timestamp,
    /// A calendar day, `YYYY-MM-DD`.
    Date,
    /// A JSON document (text).
    Json,
}

/// A bound value with its SQL type. The `From` impls give Rust values their type (`Uuid`,
/// `bool`, `jiff::Timestamp`, `jiff::civil::Date`; `None` a NULL of the same type); times and
/// JSON held as text are typed with [`Val::ts`] and [`Val::json`].
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// A NULL of a type (PostgreSQL types its parameters, NULLs too).
    Null(SqlType),
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    Uuid(Uuid),
    /// Fixed-width UTC text, as [`crate::fmt_ts`] writes it.
    Timestamp(String),
    /// `YYYY-MM-DD`.
    Date(String),
    /// JSON text.
    Json(String),
}

impl Val {
    /// A time held as `fmt_ts` text.
    pub fn ts(v: impl Into<String>) -> Val {
        Val::Timestamp(v.into())
    }

    /// A time held as `fmt_ts` text, or NULL.
    pub fn opt_ts(v: Option<impl Into<String>>) -> Val {
        v.map_or(Val::Null(SqlType::Timestamp), Val::ts)
    }

    /// A JSON document held as text.
    pub fn json(v: impl Into<String>) -> Val {
        Val::Json(v.into())
    }

    pub fn sql_type(&self) -> SqlType {
        match self {
            Val::Null(t) => *t,
            Val::Int(_) => SqlType::Int,
            Val::Real(_) => SqlType::Real,
            Val::Text(_) => SqlType::Text,
            Val::Bool(_) => SqlType::Bool,
            Val::Uuid(_) => SqlType::Uuid,
            Val::Timestamp(_) => SqlType::Timestamp,
            Val::Date(_) => SqlType::Date,
            Val::Json(_) => SqlType::Json,
        }
    }
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<i32> for Val {
    fn from(v: i32) -> Val {
        Val::Int(v.into())
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Val {
        Val::Int(v.into())
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Bool(v)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::Real(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<Uuid> for Val {
    fn from(v: Uuid) -> Val {
        Val::Uuid(v)
    }
}
impl From<jiff::Timestamp> for Val {
    fn from(v: jiff::Timestamp) -> Val {
        Val::Timestamp(crate::fmt_ts(v))
    }
}
impl From<jiff::civil::Date> for Val {
    fn from(v: jiff::civil::Date) -> Val {
        Val::Date(v.to_string())
    }
}
macro_rules! opt_val {
    ($null:ident: $($t:ty),*) => {$(
        impl From<Option<$t>> for Val {
            fn from(v: Option<$t>) -> Val {
                v.map_or(Val::Null(SqlType::$null), Into::into)
            }
        }
    )*};
}
opt_val!(Text: String, &str, &String);
opt_val!(Int: i64, i32, u32);
opt_val!(Real: f64);
opt_val!(Bool: bool);
opt_val!(Uuid: Uuid);
opt_val!(Timestamp: jiff::Timestamp);
opt_val!(Date: jiff::civil::Date);

/// `vals![a, b]` builds an array of `Val`s (a read's arguments).
macro_rules! vals {
    ($($v:expr),* $(,)?) => { [$($crate::Val::from($v)),*] };
}
pub(crate) use vals;

/// `args![a, b, c]` builds a `Vec<Val>`.
#[macro_export]
macro_rules! args {
    ($($v:expr),* $(,)?) => { vec![$($crate::Val::from($v)),*] };
}

#[derive(Debug, Clone)]
pub struct IncidentRow {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
    pub plan_id: String,
    pub plan_version: i64,
    pub kind: String,
    pub status: String,
    pub level: Option<String>,
    pub drill: bool,
    pub headcount: i64,
    pub title: String,
    pub reported_at: String,
    pub updated_at: String,
    pub next_due_ms: Option<i64>,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct TaskRow {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub jurisdiction_path: String,
    pub group: String,
    pub title: String,
    pub state: String,
    pub due_at: String,
    pub overdue: bool,
    pub drill: bool,
    pub assignees: Vec<Uuid>,
}

#[derive(Debug, Clone)]
pub struct JurisdictionRow {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub kind: String,
    pub code: Option<String>,
    pub path: String,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct PersonRow {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub token_hash: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct PostHolderRow {
    pub jurisdiction_id: Uuid,
    pub post_id: String,
    pub person_id: Uuid,
    pub deputy: bool,
}

#[derive(Debug, Clone)]
pub struct PlanRow {
    pub plan_id: String,
    pub version: i64,
    pub jurisdiction_id: Uuid,
    pub title: String,
    /// The plan file's text, shared: a row is cloned out of the cache on every report.
    pub source: std::sync::Arc<str>,
    pub sha256: String,
    pub loaded_at: String,
}

#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub kind: String,
    pub payload: String,
    pub next_at: String,
    pub created_at: String,
}

#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub actor_id: Uuid,
    pub key: String,
    pub request_hash: String,
    pub status: i64,
    pub response: String,
    pub created_at: String,
}

/// The stored record of an incident, with its stream head.
#[derive(Debug, Clone)]
pub struct IncidentRecord {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
    pub version: i64,
    pub head_hash: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct IncidentSummary {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub plan_id: String,
    pub plan_version: i64,
    pub kind: String,
    pub status: String,
    pub level: Option<String>,
    pub drill: bool,
    pub headcount: i64,
    pub title: String,
    pub reported_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// The caller's scope: only incidents whose jurisdiction path starts with this.
    pub scope_path: String,
    pub status: Option<String>,
    pub level: Option<String>,
    pub drill: Option<bool>,
    /// Reported at or after / before (fixed-width UTC text).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Keyset pagination: ids below this one (ids are time-ordered UUIDv7).
    pub before: Option<Uuid>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub scope_path: String,
    pub assignee: Option<Uuid>,
    pub state: Option<String>,
    pub overdue: Option<bool>,
    pub drill: Option<bool>,
    /// The page after this task (its due time and id: the list is in due order, then id).
    pub after: Option<(String, Uuid)>,
    pub limit: i64,
}

/// The `[lo, hi)` text range of paths inside a subtree (`/a/b/` → `/a/b/` .. `/a/b0`).
pub fn subtree_range(path: &str) -> (String, String) {
    let mut hi = path.trim_end_matches('/').to_string();
    hi.push('0'); // '0' follows '/' in ASCII
    (path.to_string(), hi)
}

/// The statements that apply a write set, in order, for either backend.
pub(crate) fn statements(
    ws: WriteSet,
    keys: Option<&crate::audit::AuditKeys>,
) -> Result<Vec<Stmt>> {
    let mut out = Vec::with_capacity(ws.heads.len() + ws.events.len() + ws.rows.len() + 1);
    for h in ws.heads {
        // The head's signature (see `audit.rs`); none when the store has no key (the store's
        // own tests).
        let sig = keys.map(|k| {
            k.sign(&crate::audit::head_message(
                h.id,
                &h.kind,
                h.new_version,
                &h.head_hash,
                h.jurisdiction_id,
            ))
        });
        if h.expected_version == 0 {
            out.push(
                Stmt::new(
                    "INSERT INTO streams (id, kind, version, head_hash, head_sig, jurisdiction_id) VALUES (?, ?, ?, ?, ?, ?)",
                    args![h.id, h.kind, h.new_version, h.head_hash, sig, h.jurisdiction_id],
                )
                .on_unique(Conflict::StreamExists),
            );
        } else {
            out.push(
                Stmt::new(
                    "UPDATE streams SET version = ?, head_hash = ?, head_sig = ?, jurisdiction_id = ? WHERE id = ? AND version = ?",
                    args![
                        h.new_version,
                        h.head_hash,
                        sig,
                        h.jurisdiction_id,
                        h.id,
                        h.expected_version
                    ],
                )
                .expect(1, Conflict::StreamVersion),
            );
        }
    }
    for e in ws.events {
        let v = e.envelope;
        out.push(Stmt::new(
            "INSERT INTO events (id, stream_id, stream_seq, stream_kind, jurisdiction_id, at, actor_id, actor_name, kind, reason, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            args![
                v.id,
                v.stream_id,
                v.stream_seq,
                v.stream_kind,
                v.jurisdiction_id,
                // The time and the payload stay text: the hash covers their exact text.
                v.at,
                v.actor_id,
                v.actor_name,
                v.kind,
                v.reason,
                v.payload,
                v.prev_hash,
                e.hash
            ],
        ));
    }
    for r in ws.rows {
        row_statements(r, &mut out)?;
    }
    if let Some(i) = ws.idempotency {
        out.push(
            Stmt::new(
                "INSERT INTO idempotency (actor_id, key, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                args![i.actor_id, i.key, i.request_hash, i.status, i.response, Val::ts(i.created_at)],
            )
            .on_unique(Conflict::Idempotency),
        );
    }
    Ok(out)
}

fn row_statements(r: Row, out: &mut Vec<Stmt>) -> Result<()> {
    use crate::writes::Statements;
    match r {
        Row::Call(w) => w.statements(out),
        Row::Case(w) => w.statements(out),
        Row::Screening(w) => w.statements(out),
        Row::Release(w) => w.statements(out),
        Row::Record(w) => w.statements(out),
        Row::Report(w) => w.statements(out),
        Row::Account(w) => w.statements(out),
        Row::Directory(w) => w.statements(out),
        Row::Delivery(w) => w.statements(out),
        Row::SubjectKey(w) => w.statements(out),
        Row::Incident(i) => out.push(Stmt::new(
            "INSERT INTO incidents (id, jurisdiction_id, jurisdiction_path, plan_id, plan_version, kind, status, level, drill, headcount, title, reported_at, updated_at, next_due_ms, body) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, level = excluded.level, headcount = excluded.headcount, title = excluded.title, updated_at = excluded.updated_at, next_due_ms = excluded.next_due_ms, body = excluded.body",
            args![
                i.id,
                i.jurisdiction_id,
                i.jurisdiction_path,
                i.plan_id,
                i.plan_version,
                i.kind,
                i.status,
                i.level,
                i.drill,
                i.headcount,
                i.title,
                Val::ts(i.reported_at),
                Val::ts(i.updated_at),
                i.next_due_ms,
                Val::json(i.body)
            ],
        )),
        Row::Tasks { incident_id, tasks } => {
            // Tasks are never removed from an incident: upsert each one (a delete-and-insert of
            // all of them would make every write cost as much as the incident's history).
            for t in &tasks {
                let assignees = serde_json::to_string(
                    &t.assignees
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>(),
                )
                .map_err(|e| StoreError::Other(e.into()))?;
                out.push(Stmt::new(
                    "INSERT INTO tasks (id, incident_id, jurisdiction_path, grp, title, state, due_at, overdue, drill, assignees) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (id) DO UPDATE SET state = excluded.state, due_at = excluded.due_at, overdue = excluded.overdue, assignees = excluded.assignees",
                    args![
                        t.id,
                        incident_id,
                        &t.jurisdiction_path,
                        &t.group,
                        &t.title,
                        &t.state,
                        Val::ts(&t.due_at),
                        t.overdue,
                        t.drill,
                        Val::json(assignees)
                    ],
                ));
            }
            // The assignees after all the tasks, not interleaved with them: the PostgreSQL
            // writer merges a run of the same statement from many writes into one multi-row
            // statement, and interleaving would split every write into one group per task.
            // Each assignment carries its task's state and due time (a person's own tasks are
            // read in due order from its index, migration 0020).
            for t in &tasks {
                for a in &t.assignees {
                    out.push(Stmt::new(
                        "INSERT INTO task_assignees (task_id, person_id, state, due_at) VALUES (?, ?, ?, ?) \
                         ON CONFLICT (person_id, task_id) DO UPDATE SET state = excluded.state, due_at = excluded.due_at",
                        args![t.id, *a, &t.state, Val::ts(&t.due_at)],
                    ));
                }
            }
        }
        Row::Jurisdiction(j) => out.push(Stmt::new(
            "INSERT INTO jurisdictions (id, parent_id, name, kind, code, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, code = excluded.code",
            args![j.id, j.parent_id, j.name, j.kind, j.code, j.path, Val::ts(j.created_at)],
        )),
        Row::Person(p) => out.push(Stmt::new(
            "INSERT INTO people (id, jurisdiction_id, name, phone, email, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone, email = excluded.email, token_hash = excluded.token_hash",
            args![
                p.id,
                p.jurisdiction_id,
                p.name,
                p.phone,
                p.email,
                p.token_hash,
                Val::ts(p.created_at)
            ],
        )),
        Row::PostHolder(h) => out.push(Stmt::new(
            "INSERT INTO post_holders (jurisdiction_id, post_id, person_id, deputy) VALUES (?, ?, ?, ?) \
             ON CONFLICT (jurisdiction_id, post_id, person_id) DO UPDATE SET deputy = excluded.deputy",
            args![h.jurisdiction_id, h.post_id, h.person_id, h.deputy],
        )),
        Row::RemovePostHolder {
            jurisdiction_id,
            post_id,
            person_id,
        } => out.push(Stmt::new(
            "DELETE FROM post_holders WHERE jurisdiction_id = ? AND post_id = ? AND person_id = ?",
            args![jurisdiction_id, post_id, person_id],
        )),
        Row::Plan(p) => out.push(Stmt::new(
            "INSERT INTO plans (plan_id, version, jurisdiction_id, title, source, sha256, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            args![p.plan_id, p.version, p.jurisdiction_id, p.title, &*p.source, p.sha256, Val::ts(p.loaded_at)],
        )),
        Row::Outbox(o) => out.push(Stmt::new(
            "INSERT INTO outbox (id, event_id, kind, payload, state, attempts, next_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
            args![o.id, o.event_id, o.kind, Val::json(o.payload), Val::ts(o.next_at), Val::ts(o.created_at)],
        )),
        Row::Sql(st) => out.push(st),
    }
    Ok(())
}

/// Applies a write set inside the caller's transaction (sqlx: PostgreSQL, and SQLite tooling).
pub(crate) async fn apply_statements(
    backend: Backend,
    conn: &mut AnyConnection,
    stmts: &[Stmt],
) -> Result<()> {
    for st in stmts {
        exec_stmt(backend, conn, st).await?;
    }
    Ok(())
}

async fn exec_stmt(backend: Backend, conn: &mut AnyConnection, st: &Stmt) -> Result<()> {
    let text = expand(backend, &st.sql, &st.args);
    let n = match bind(sqlx::query(&text), &st.args).execute(&mut *conn).await {
        Ok(r) => r.rows_affected(),
        Err(e) => {
            return Err(match (StoreError::from(e), st.unique) {
                (StoreError::Conflict(_), Some(c)) => StoreError::Conflict(c),
                (e, _) => e,
            });
        }
    };
    st.check_rows(n)
}

pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds values in order. Ids, times, dates and JSON go as text (PostgreSQL casts them, see
/// `sql.rs`); flags as booleans (SQLite stores 0/1).
pub(crate) fn bind<'q>(mut q: Query<'q>, args: &'q [Val]) -> Query<'q> {
    for a in args {
        q = match a {
            Val::Null(SqlType::Int) => q.bind(None::<i64>),
            Val::Null(SqlType::Real) => q.bind(None::<f64>),
            Val::Null(SqlType::Bool) => q.bind(None::<bool>),
            Val::Null(_) => q.bind(None::<String>),
            Val::Int(i) => q.bind(*i),
            Val::Real(f) => q.bind(*f),
            Val::Bool(b) => q.bind(*b),
            Val::Uuid(u) => q.bind(u.to_string()),
            Val::Text(t) | Val::Timestamp(t) | Val::Date(t) | Val::Json(t) => q.bind(t.as_str()),
        };
    }
    q
}

impl Store {
    /// The rows a read answers. `sql` is written with `?` for both backends and reads typed
    /// columns through `yj_text(…)` (see `sql.rs`).
    pub(crate) async fn fetch_all(&self, sql: &str, args: &[Val]) -> Result<Vec<AnyRow>> {
        let text = expand(self.backend(), sql, args);
        Ok(bind(sqlx::query(&text), args)
            .fetch_all(self.pool())
            .await?)
    }

    /// The rows of `sql_head` (a query ending in `… IN `) for each of `ids`, read 500 ids at a
    /// time: a page showing many records reads them together, not one round trip each.
    pub(crate) async fn fetch_all_in(&self, sql_head: &str, ids: &[Uuid]) -> Result<Vec<AnyRow>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let args: Vec<Val> = chunk.iter().map(|id| Val::from(*id)).collect();
            out.extend(
                self.fetch_all(&format!("{sql_head}({marks})"), &args)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The first row a read answers, if any (see [`Store::fetch_all`]).
    pub(crate) async fn fetch_optional(&self, sql: &str, args: &[Val]) -> Result<Option<AnyRow>> {
        let text = expand(self.backend(), sql, args);
        Ok(bind(sqlx::query(&text), args)
            .fetch_optional(self.pool())
            .await?)
    }

    /// The one row a read answers (see [`Store::fetch_all`]).
    pub(crate) async fn fetch_one(&self, sql: &str, args: &[Val]) -> Result<AnyRow> {
        let text = expand(self.backend(), sql, args);
        Ok(bind(sqlx::query(&text), args)
            .fetch_one(self.pool())
            .await?)
    }
}

/// An id column (read through `yj_text`).
pub(crate) fn uuid_col(r: &AnyRow, i: usize) -> Result<Uuid> {
    parse_uuid(&r.try_get::<String, _>(i)?)
}

pub(crate) fn opt_uuid_col(r: &AnyRow, i: usize) -> Result<Option<Uuid>> {
    match r.try_get::<Option<String>, _>(i)? {
        Some(s) => Ok(Some(parse_uuid(&s)?)),
        None => Ok(None),
    }
}

/// A flag: a boolean on PostgreSQL, 0/1 on SQLite.
pub(crate) fn bool_col(r: &AnyRow, i: usize) -> Result<bool> {
    use sqlx::{TypeInfo as _, ValueRef as _};
    if r.try_get_raw(i)?.type_info().name() == "BOOLEAN" {
        Ok(r.try_get::<bool, _>(i)?)
    } else {
        Ok(r.try_get::<i64, _>(i)? != 0)
    }
}

fn jurisdiction_from(r: &AnyRow) -> Result<JurisdictionRow> {
    Ok(JurisdictionRow {
        id: uuid_col(r, 0)?,
        parent_id: opt_uuid_col(r, 1)?,
        name: r.try_get(2)?,
        kind: r.try_get(3)?,
        code: r.try_get(4)?,
        path: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}

fn person_from(r: &AnyRow) -> Result<PersonRow> {
    Ok(PersonRow {
        id: uuid_col(r, 0)?,
        jurisdiction_id: uuid_col(r, 1)?,
        name: r.try_get(2)?,
        phone: r.try_get(3)?,
        email: r.try_get(4)?,
        token_hash: r.try_get(5)?,
        created_at: r.try_get(6)?,
    })
}

fn plan_from(r: &AnyRow) -> Result<PlanRow> {
    Ok(PlanRow {
        plan_id: r.try_get(0)?,
        version: r.try_get(1)?,
        jurisdiction_id: uuid_col(r, 2)?,
        title: r.try_get(3)?,
        source: r.try_get::<String, _>(4)?.into(),
        sha256: r.try_get(5)?,
        loaded_at: r.try_get(6)?,
    })
}

const PLAN_COLS: &str =
    "plan_id, version, yj_text(jurisdiction_id), title, source, sha256, yj_text(loaded_at)";
const PERSON_COLS: &str =
    "yj_text(id), yj_text(jurisdiction_id), name, phone, email, token_hash, yj_text(created_at)";
const JUR_COLS: &str =
    "yj_text(id), yj_text(parent_id), name, kind, code, path, yj_text(created_at)";

impl Store {
    pub async fn get_incident(&self, id: Uuid) -> Result<Option<IncidentRecord>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(i.id), yj_text(i.jurisdiction_id), i.jurisdiction_path, s.version, s.head_hash, yj_text(i.body) FROM incidents i JOIN streams s ON s.id = i.id WHERE i.id = ?",
                &vals![id],
            )
            .await?;
        row.map(|r| {
            Ok(IncidentRecord {
                id: uuid_col(&r, 0)?,
                jurisdiction_id: uuid_col(&r, 1)?,
                jurisdiction_path: r.try_get(2)?,
                version: r.try_get(3)?,
                head_hash: r.try_get(4)?,
                body: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// The stored records (JSON bodies) of the incidents among `ids` that exist, read
    /// together ([`Store::fetch_all_in`]). In no particular order.
    pub async fn incident_bodies(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
        self.fetch_all_in(
            "SELECT yj_text(id), yj_text(body) FROM incidents WHERE id IN ",
            ids,
        )
        .await?
        .iter()
        .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?)))
        .collect()
    }

    /// The incidents of a subtree matching the filter, newest first. The matching rows in the
    /// subtree are counted first (up to [`SMALL_LIST`]): few are read through the subtree's
    /// indexes and sorted; many are found by walking all incidents newest first, so that a
    /// province or a large county answers its first page without reading its whole history.
    pub async fn list_incidents(&self, f: &IncidentFilter) -> Result<Vec<IncidentSummary>> {
        let (lo, hi) = subtree_range(&f.scope_path);
        let mut filters = String::new();
        let mut fargs: Vec<Val> = Vec::new();
        if let Some(s) = &f.status {
            filters.push_str(" AND status = ?");
            fargs.push(s.into());
        }
        if let Some(l) = &f.level {
            filters.push_str(" AND level = ?");
            fargs.push(l.into());
        }
        if let Some(d) = f.drill {
            filters.push_str(" AND drill = ?");
            fargs.push(d.into());
        }
        if let Some(x) = &f.from {
            filters.push_str(" AND reported_at >= ?");
            fargs.push(Val::ts(x));
        }
        if let Some(x) = &f.to {
            filters.push_str(" AND reported_at < ?");
            fargs.push(Val::ts(x));
        }
        if let Some(x) = f.before {
            filters.push_str(" AND id < ?");
            fargs.push(x.into());
        }
        let shape = self
            .subtree_shape("incidents", "jurisdiction_path", &lo, &hi, &filters, &fargs)
            .await?;
        let large = shape == Shape::Large;
        // A township: one range of (path, id) or (status, path, id), newest first.
        // Many: the path compared as an expression, so that the walk newest first (the
        // primary key) is taken over reading the subtree's rows and sorting them.
        // On SQLite the state likewise (its index would return the province's open incidents
        // to sort); PostgreSQL's planner weighs that index by the state's frequency and does
        // better with the plain comparison (measured: 10 ms against 264 ms at 1M incidents).
        let path = scope_condition_of("jurisdiction_path", shape);
        let filters = if large && self.backend() == Backend::Sqlite {
            filters.replace(" AND status = ?", " AND (status || '') = ?")
        } else {
            filters
        };
        let sql = format!(
            "SELECT yj_text(id), yj_text(jurisdiction_id), plan_id, plan_version, kind, status, level, drill, headcount, title, yj_text(reported_at), yj_text(updated_at) FROM incidents WHERE {path}{filters} ORDER BY id DESC LIMIT ?"
        );
        let mut args = args![lo, hi];
        args.extend(fargs);
        args.push(f.limit.into());
        let rows = self.fetch_all(&sql, &args).await?;
        rows.iter()
            .map(|r| {
                Ok(IncidentSummary {
                    id: uuid_col(r, 0)?,
                    jurisdiction_id: uuid_col(r, 1)?,
                    plan_id: r.try_get(2)?,
                    plan_version: r.try_get(3)?,
                    kind: r.try_get(4)?,
                    status: r.try_get(5)?,
                    level: r.try_get(6)?,
                    drill: bool_col(r, 7)?,
                    headcount: r.try_get(8)?,
                    title: r.try_get(9)?,
                    reported_at: r.try_get(10)?,
                    updated_at: r.try_get(11)?,
                })
            })
            .collect()
    }

    /// Incidents with something falling due at or before `now_ms`.
    pub async fn due_incidents(&self, now_ms: i64, limit: i64) -> Result<Vec<Uuid>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(id) FROM incidents WHERE next_due_ms IS NOT NULL AND next_due_ms <= ? ORDER BY next_due_ms LIMIT ?",
                &vals![now_ms, limit],
            )
            .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    /// Puts off a due record the ticker could not process until `until_ms` (its next write
    /// computes its due time afresh). `what`: `incident`, `case`, `callout` or `record`.
    pub async fn defer_due(&self, what: &str, id: Uuid, until_ms: i64) -> Result<()> {
        let sql = match what {
            "incident" => {
                "UPDATE incidents SET next_due_ms = ? WHERE id = ? AND next_due_ms IS NOT NULL"
            }
            "case" => "UPDATE cases SET next_due_ms = ? WHERE id = ? AND next_due_ms IS NOT NULL",
            "callout" => {
                "UPDATE callouts SET next_due_ms = ? WHERE incident_id = ? AND next_due_ms IS NOT NULL"
            }
            "record" => {
                let until = jiff::Timestamp::from_millisecond(until_ms)
                    .map(crate::fmt_ts)
                    .map_err(|e| StoreError::Other(anyhow::anyhow!(e)))?;
                let mut ws = WriteSet::default();
                ws.rows.push(Row::Sql(Stmt::new(
                    "UPDATE records SET due_at = ? WHERE id = ? AND due_at IS NOT NULL",
                    args![Val::ts(until), id],
                )));
                return self.commit(ws).await;
            }
            other => {
                return Err(StoreError::Other(anyhow::anyhow!(
                    "no due records of kind {other}"
                )));
            }
        };
        let mut ws = WriteSet::default();
        ws.rows.push(Row::Sql(Stmt::new(sql, args![until_ms, id])));
        self.commit(ws).await
    }

    /// When the longest-waiting due record fell due (the ticker's backlog), if any is due.
    pub async fn oldest_due_ms(&self, now_ms: i64) -> Result<Option<i64>> {
        let mut oldest: Option<i64> = None;
        for table in ["incidents", "cases", "callouts"] {
            let row = self
                .fetch_optional(
                    &format!("SELECT MIN(next_due_ms) FROM {table} WHERE next_due_ms IS NOT NULL AND next_due_ms <= ?"),
                    &vals![now_ms],
                )
                .await?;
            if let Some(r) = row
                && let Ok(Some(t)) = r.try_get::<Option<i64>, _>(0)
            {
                oldest = Some(oldest.map_or(t, |o: i64| o.min(t)));
            }
        }
        Ok(oldest)
    }

    /// Whether more than [`SMALL_LIST`] rows of `from` in the subtree match `filters` (which
    /// follow the path condition, with `fargs`): counted through the path index, stopping at
    /// the first [`SMALL_LIST`] + 1. Few are best read through the subtree's index and sorted;
    /// many by walking the list's order index and skipping other areas' rows.
    pub(crate) async fn subtree_is_large(
        &self,
        from: &str,
        path_col: &str,
        lo: &str,
        hi: &str,
        filters: &str,
        fargs: &[Val],
    ) -> Result<bool> {
        let mut args = args![lo, hi];
        args.extend(fargs.iter().cloned());
        args.push(Val::Int(SMALL_LIST + 1));
        let n: i64 = self
            .fetch_one(
                &format!("SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE {path_col} >= ? AND {path_col} < ?{filters} LIMIT ?) c"),
                &args,
            )
            .await?
            .try_get(0)?;
        Ok(n > SMALL_LIST)
    }

    /// How to read a subtree for a newest-first list whose table has a `(path, id)` index: when
    /// no row lies below the jurisdiction itself (a township, or any area whose records are all
    /// its own), its rows are one range of that index, in id order; otherwise as
    /// [`Store::subtree_is_large`] finds.
    pub(crate) async fn subtree_shape(
        &self,
        from: &str,
        path_col: &str,
        lo: &str,
        hi: &str,
        filters: &str,
        fargs: &[Val],
    ) -> Result<Shape> {
        // Rows of the list's table below the jurisdiction itself (its path is the least in
        // its range): none, and its own rows are one range of the path index.
        let below = self
            .fetch_optional(
                &format!("SELECT 1 FROM {from} WHERE {path_col} > ? AND {path_col} < ? LIMIT 1"),
                &vals![lo, hi],
            )
            .await?;
        if below.is_none() {
            return Ok(Shape::Leaf);
        }
        Ok(
            if self
                .subtree_is_large(from, path_col, lo, hi, filters, fargs)
                .await?
            {
                Shape::Large
            } else {
                Shape::Small
            },
        )
    }

    /// The due time of a task, as the task list's cursor compares it.
    pub async fn task_due_at(&self, id: Uuid) -> Result<Option<String>> {
        let row = self
            .fetch_optional("SELECT yj_text(due_at) FROM tasks WHERE id = ?", &vals![id])
            .await?;
        row.map(|r| Ok(r.try_get(0)?)).transpose()
    }

    /// The tasks of a subtree matching the filter, earliest due first. A person's own tasks
    /// are read from the person's assignments; otherwise the matching tasks in the subtree are
    /// counted first (up to [`SMALL_LIST`]): few are read through the subtree's index and
    /// sorted, many are found by walking all tasks by due time (migration 0019).
    pub async fn list_tasks(&self, f: &TaskFilter) -> Result<Vec<(TaskRow, String)>> {
        let (lo, hi) = subtree_range(&f.scope_path);
        let sqlite = self.backend() == Backend::Sqlite;
        // `o` is the table that holds the order (state and due time): the person's
        // assignments for their own tasks, the tasks otherwise.
        let o = if f.assignee.is_some() { "x" } else { "t" };
        let okey = if f.assignee.is_some() {
            "x.task_id"
        } else {
            "t.id"
        };
        // The conditions on the order table (state, cursor) and on the tasks (overdue, drill).
        let (mut ofilters, mut oargs) = (String::new(), Vec::<Val>::new());
        let (mut tfilters, mut targs) = (String::new(), Vec::<Val>::new());
        if let Some(s) = &f.state {
            ofilters.push_str(&format!(" AND {o}.state = ?"));
            oargs.push(s.into());
        }
        if let Some((due, id)) = &f.after {
            ofilters.push_str(&format!(
                " AND {o}.due_at >= ? AND ({o}.due_at > ? OR {okey} > ?)"
            ));
            oargs.extend([Val::ts(due), Val::ts(due), (*id).into()]);
        }
        if let Some(o) = f.overdue {
            tfilters.push_str(" AND t.overdue = ?");
            targs.push(o.into());
        }
        if let Some(d) = f.drill {
            tfilters.push_str(" AND t.drill = ?");
            targs.push(d.into());
        }
        const COLUMNS: &str = "yj_text(t.id), yj_text(t.incident_id), t.jurisdiction_path, t.grp, t.title, t.state, yj_text(t.due_at), t.overdue, t.drill, yj_text(t.assignees), i.title";
        let (sql, args) = if let Some(a) = f.assignee {
            // The person's assignments in due order (migration 0020), each task looked up in
            // turn, until the page is full. SQLite keeps a CROSS JOIN's order; PostgreSQL is
            // held to it by a lateral lookup it cannot merge into a join (`OFFSET 0`): as a
            // join it cannot know that a person's tasks lie in their own area, expects to read
            // many, and starts parallel workers to merge them (a county duty officer with
            // 10,000 past tasks among 3M: 14–24 ms as a join, 0.6 ms so).
            let (sql, mut args) = if sqlite {
                let mut args = args![a, lo, hi];
                args.extend(oargs);
                args.extend(targs);
                (
                    format!(
                        "SELECT {COLUMNS} FROM task_assignees x CROSS JOIN tasks t ON t.id = x.task_id JOIN incidents i ON i.id = t.incident_id WHERE x.person_id = ? AND t.jurisdiction_path >= ? AND t.jurisdiction_path < ?{ofilters}{tfilters} ORDER BY x.due_at, x.task_id LIMIT ?"
                    ),
                    args,
                )
            } else {
                let mut args = args![a];
                args.extend(oargs);
                args.extend([Val::from(lo), Val::from(hi)]);
                args.extend(targs);
                (
                    format!(
                        "SELECT {COLUMNS} FROM (SELECT x.task_id, x.due_at FROM task_assignees x WHERE x.person_id = ?{ofilters} ORDER BY x.due_at, x.task_id) x \
                         CROSS JOIN LATERAL (SELECT * FROM tasks t WHERE t.id = x.task_id AND t.jurisdiction_path >= ? AND t.jurisdiction_path < ?{tfilters} OFFSET 0) t \
                         JOIN incidents i ON i.id = t.incident_id ORDER BY x.due_at, x.task_id LIMIT ?"
                    ),
                    args,
                )
            };
            args.push(f.limit.into());
            (sql, args)
        } else {
            let filters = format!("{ofilters}{tfilters}");
            let mut fargs = oargs;
            fargs.extend(targs);
            let large = self
                .subtree_is_large("tasks t", "t.jurisdiction_path", &lo, &hi, &filters, &fargs)
                .await?;
            // Many: the path compared as an expression, so that the walk by due time (within
            // the state, when one is asked for) is taken over reading the subtree's tasks and
            // sorting them.
            let path = scope_condition("t.jurisdiction_path", large);
            let mut args = args![lo, hi];
            args.extend(fargs);
            args.push(f.limit.into());
            (
                format!(
                    "SELECT {COLUMNS} FROM tasks t JOIN incidents i ON i.id = t.incident_id WHERE {path}{filters} ORDER BY t.due_at, t.id LIMIT ?"
                ),
                args,
            )
        };
        let rows = self.fetch_all(&sql, &args).await?;
        rows.iter()
            .map(|r| {
                let assignees: Vec<String> =
                    serde_json::from_str(&r.try_get::<String, _>(9)?).unwrap_or_default();
                Ok((
                    TaskRow {
                        id: uuid_col(r, 0)?,
                        incident_id: uuid_col(r, 1)?,
                        jurisdiction_path: r.try_get(2)?,
                        group: r.try_get(3)?,
                        title: r.try_get(4)?,
                        state: r.try_get(5)?,
                        due_at: r.try_get(6)?,
                        overdue: bool_col(r, 7)?,
                        drill: bool_col(r, 8)?,
                        assignees: assignees
                            .iter()
                            .filter_map(|a| Uuid::parse_str(a).ok())
                            .collect(),
                    },
                    r.try_get(10)?,
                ))
            })
            .collect()
    }

    /// The incident a task belongs to.
    pub async fn task_incident(&self, task_id: Uuid) -> Result<Option<Uuid>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(incident_id) FROM tasks WHERE id = ?",
                &vals![task_id],
            )
            .await?;
        row.map(|r| uuid_col(&r, 0)).transpose()
    }

    /// Cached (see `cache.rs`).
    pub async fn jurisdiction(&self, id: Uuid) -> Result<Option<JurisdictionRow>> {
        self.cached(&self.inner.jurisdictions, id, || {
            self.jurisdiction_uncached(id)
        })
        .await
    }

    async fn jurisdiction_uncached(&self, id: Uuid) -> Result<Option<JurisdictionRow>> {
        let row = self
            .fetch_optional(
                &format!("SELECT {JUR_COLS} FROM jurisdictions WHERE id = ?"),
                &vals![id],
            )
            .await?;
        row.map(|r| jurisdiction_from(&r)).transpose()
    }

    pub async fn list_jurisdictions(&self, scope_path: &str) -> Result<Vec<JurisdictionRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {JUR_COLS} FROM jurisdictions WHERE path >= ? AND path < ? ORDER BY path"
                ),
                &vals![lo, hi],
            )
            .await?;
        rows.iter().map(jurisdiction_from).collect()
    }

    pub async fn jurisdiction_count(&self) -> Result<i64> {
        let r = self
            .fetch_one("SELECT COUNT(*) FROM jurisdictions", &[])
            .await?;
        Ok(r.try_get(0)?)
    }

    /// Cached (see `cache.rs`).
    pub async fn person(&self, id: Uuid) -> Result<Option<PersonRow>> {
        self.cached(&self.inner.people_by_id, id, || self.person_uncached(id))
            .await
    }

    async fn person_uncached(&self, id: Uuid) -> Result<Option<PersonRow>> {
        let row = self
            .fetch_optional(
                &format!("SELECT {PERSON_COLS} FROM people WHERE id = ?"),
                &vals![id],
            )
            .await?;
        row.map(|r| person_from(&r)).transpose()
    }

    /// Cached (see `cache.rs`).
    pub async fn person_by_token(&self, token_hash: &str) -> Result<Option<PersonRow>> {
        self.cached(&self.inner.people, token_hash.to_string(), || {
            self.person_by_token_uncached(token_hash)
        })
        .await
    }

    async fn person_by_token_uncached(&self, token_hash: &str) -> Result<Option<PersonRow>> {
        let row = self
            .fetch_optional(
                &format!("SELECT {PERSON_COLS} FROM people WHERE token_hash = ?"),
                &vals![token_hash],
            )
            .await?;
        row.map(|r| person_from(&r)).transpose()
    }

    pub async fn list_people(&self, scope_path: &str) -> Result<Vec<PersonRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                "SELECT yj_text(p.id), yj_text(p.jurisdiction_id), p.name, p.phone, p.email, p.token_hash, yj_text(p.created_at) FROM people p JOIN jurisdictions j ON j.id = p.jurisdiction_id WHERE j.path >= ? AND j.path < ? ORDER BY p.name",
                &vals![lo, hi],
            )
            .await?;
        rows.iter().map(person_from).collect()
    }

    /// Who holds a post in a jurisdiction: principals first, then deputies.
    pub async fn holders(
        &self,
        jurisdiction_id: Uuid,
        post_id: &str,
    ) -> Result<Vec<(Uuid, String, bool)>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(h.person_id), p.name, h.deputy FROM post_holders h JOIN people p ON p.id = h.person_id WHERE h.jurisdiction_id = ? AND h.post_id = ? ORDER BY h.deputy, p.name",
                &vals![jurisdiction_id, post_id],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?, bool_col(r, 2)?)))
            .collect()
    }

    /// Every post holder of a jurisdiction: (post, person, name, deputy). Cached (see `cache.rs`).
    pub async fn holders_in(
        &self,
        jurisdiction_id: Uuid,
    ) -> Result<Vec<(String, Uuid, String, bool)>> {
        self.cached(&self.inner.holders, jurisdiction_id, || {
            self.holders_in_uncached(jurisdiction_id)
        })
        .await
    }

    async fn holders_in_uncached(
        &self,
        jurisdiction_id: Uuid,
    ) -> Result<Vec<(String, Uuid, String, bool)>> {
        let rows = self
            .fetch_all(
                "SELECT h.post_id, yj_text(h.person_id), p.name, h.deputy FROM post_holders h JOIN people p ON p.id = h.person_id WHERE h.jurisdiction_id = ? ORDER BY h.post_id, h.deputy, p.name",
                &vals![jurisdiction_id],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    uuid_col(r, 1)?,
                    r.try_get(2)?,
                    bool_col(r, 3)?,
                ))
            })
            .collect()
    }

    /// Cached (see `cache.rs`).
    pub async fn plan_latest(&self, plan_id: &str) -> Result<Option<PlanRow>> {
        self.cached(&self.inner.plans, plan_id.to_string(), || {
            self.plan_latest_uncached(plan_id)
        })
        .await
    }

    async fn plan_latest_uncached(&self, plan_id: &str) -> Result<Option<PlanRow>> {
        let row = self
            .fetch_optional(
                &format!(
                    "SELECT {PLAN_COLS} FROM plans WHERE plan_id = ? ORDER BY version DESC LIMIT 1"
                ),
                &vals![plan_id],
            )
            .await?;
        row.map(|r| plan_from(&r)).transpose()
    }

    pub async fn plan_version(&self, plan_id: &str, version: i64) -> Result<Option<PlanRow>> {
        let row = self
            .fetch_optional(
                &format!("SELECT {PLAN_COLS} FROM plans WHERE plan_id = ? AND version = ?"),
                &vals![plan_id, version],
            )
            .await?;
        row.map(|r| plan_from(&r)).transpose()
    }

    /// Every version of every plan owned inside a subtree, newest version first per plan.
    pub async fn list_plans(&self, scope_path: &str) -> Result<Vec<PlanRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                "SELECT p.plan_id, p.version, yj_text(p.jurisdiction_id), p.title, p.source, p.sha256, yj_text(p.loaded_at) FROM plans p JOIN jurisdictions j ON j.id = p.jurisdiction_id WHERE j.path >= ? AND j.path < ? ORDER BY p.plan_id, p.version DESC",
                &vals![lo, hi],
            )
            .await?;
        rows.iter().map(plan_from).collect()
    }

    pub async fn idempotency(
        &self,
        actor_id: Uuid,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(actor_id), key, request_hash, status, response, yj_text(created_at) FROM idempotency WHERE actor_id = ? AND key = ?",
                &vals![actor_id, key],
            )
            .await?;
        row.map(|r| {
            Ok(IdempotencyRecord {
                actor_id: uuid_col(&r, 0)?,
                key: r.try_get(1)?,
                request_hash: r.try_get(2)?,
                status: r.try_get(3)?,
                response: r.try_get(4)?,
                created_at: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Pending outbox rows (for the notification worker and for tests).
    pub async fn outbox_count(&self, state: &str) -> Result<i64> {
        let r = self
            .fetch_one("SELECT COUNT(*) FROM outbox WHERE state = ?", &vals![state])
            .await?;
        Ok(r.try_get(0)?)
    }

    pub async fn event_count(&self) -> Result<i64> {
        let r = self.fetch_one("SELECT COUNT(*) FROM events", &[]).await?;
        Ok(r.try_get(0)?)
    }
}

/// Up to this many matching rows in a subtree, a list reads them and sorts; above it, it walks
/// the records newest first (see [`Store::list_incidents`]).
pub const SMALL_LIST: i64 = 2000;

/// The subtree condition on a path column (two placeholders, `lo` and `hi`). For a large
/// subtree the column is compared as an expression, so that the planner walks the list's
/// order index instead of reading the subtree's rows through the path index and sorting them.
pub(crate) fn scope_condition(col: &str, large: bool) -> String {
    scope_condition_of(col, if large { Shape::Large } else { Shape::Small })
}

/// How a list reads a subtree (see [`Store::subtree_shape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// One jurisdiction without any below it: its rows are one range of a `(path, id)` index,
    /// already newest first.
    Leaf,
    /// Few matching rows: read through the path index and sorted.
    Small,
    /// Many: walk the list's order index, the path compared as an expression.
    Large,
}

/// The subtree condition for a [`Shape`] (two placeholders, `lo` and `hi`, whatever the shape).
pub(crate) fn scope_condition_of(col: &str, shape: Shape) -> String {
    if shape == Shape::Leaf {
        format!("{col} = ? AND {col} < ?")
    } else if shape == Shape::Large {
        format!("({col} || '') >= ? AND ({col} || '') < ?")
    } else {
        format!("{col} >= ? AND {col} < ?")
    }
}
