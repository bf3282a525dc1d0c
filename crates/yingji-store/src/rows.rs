//! What a write contains, how it is applied inside a transaction, and the read queries.

use sqlx::{AnyConnection, Row as _};
use uuid::Uuid;
use yingji_domain::audit::StoredEvent;

use crate::sql::placeholders;
use crate::{Backend, Result, Store, StoreError, parse_uuid};

/// Everything one request changes, committed atomically.
#[derive(Debug, Default, Clone)]
pub struct WriteSet {
    pub events: Vec<StoredEvent>,
    pub heads: Vec<StreamHead>,
    pub rows: Vec<Row>,
    pub idempotency: Option<IdempotencyRecord>,
}

/// Advances a stream from `expected_version` (0: the stream is new) to `new_version`.
#[derive(Debug, Clone)]
pub struct StreamHead {
    pub id: Uuid,
    pub kind: String,
    pub expected_version: i64,
    pub new_version: i64,
    pub head_hash: String,
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
    pub source: String,
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
    pub limit: i64,
}

/// The `[lo, hi)` text range of paths inside a subtree (`/a/b/` → `/a/b/` .. `/a/b0`).
pub fn subtree_range(path: &str) -> (String, String) {
    let mut hi = path.trim_end_matches('/').to_string();
    hi.push('0'); // '0' follows '/' in ASCII
    (path.to_string(), hi)
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

async fn run(
    backend: Backend,
    conn: &mut AnyConnection,
    sql: &str,
    q: impl for<'q> FnOnce(AnyQuery<'q>) -> AnyQuery<'q>,
) -> Result<u64> {
    let text = placeholders(backend, sql);
    let query = q(sqlx::query(&text));
    Ok(query.execute(&mut *conn).await?.rows_affected())
}

/// Applies a write set inside the caller's transaction.
pub(crate) async fn apply(backend: Backend, conn: &mut AnyConnection, ws: &WriteSet) -> Result<()> {
    for h in &ws.heads {
        if h.expected_version == 0 {
            run(
                backend,
                conn,
                "INSERT INTO streams (id, kind, version, head_hash) VALUES (?, ?, ?, ?)",
                |q| {
                    q.bind(h.id.to_string())
                        .bind(h.kind.clone())
                        .bind(h.new_version)
                        .bind(h.head_hash.clone())
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => StoreError::Conflict {
                    constraint: "stream_exists".into(),
                },
                e => e,
            })?;
        } else {
            let n = run(
                backend,
                conn,
                "UPDATE streams SET version = ?, head_hash = ? WHERE id = ? AND version = ?",
                |q| {
                    q.bind(h.new_version)
                        .bind(h.head_hash.clone())
                        .bind(h.id.to_string())
                        .bind(h.expected_version)
                },
            )
            .await?;
            if n != 1 {
                return Err(StoreError::Conflict {
                    constraint: "stream_version".into(),
                });
            }
        }
    }
    for e in &ws.events {
        let v = &e.envelope;
        run(
            backend,
            conn,
            "INSERT INTO events (id, stream_id, stream_seq, stream_kind, jurisdiction_id, at, actor_id, actor_name, kind, reason, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            |q| {
                q.bind(v.id.to_string())
                    .bind(v.stream_id.to_string())
                    .bind(v.stream_seq)
                    .bind(v.stream_kind.clone())
                    .bind(v.jurisdiction_id.to_string())
                    .bind(v.at.clone())
                    .bind(v.actor_id.to_string())
                    .bind(v.actor_name.clone())
                    .bind(v.kind.clone())
                    .bind(v.reason.clone())
                    .bind(v.payload.clone())
                    .bind(v.prev_hash.clone())
                    .bind(e.hash.clone())
            },
        )
        .await?;
    }
    for r in &ws.rows {
        apply_row(backend, conn, r).await?;
    }
    if let Some(i) = &ws.idempotency {
        run(
            backend,
            conn,
            "INSERT INTO idempotency (actor_id, key, request_hash, status, response, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            |q| {
                q.bind(i.actor_id.to_string())
                    .bind(i.key.clone())
                    .bind(i.request_hash.clone())
                    .bind(i.status)
                    .bind(i.response.clone())
                    .bind(i.created_at.clone())
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => StoreError::Conflict { constraint: "idempotency".into() },
            e => e,
        })?;
    }
    Ok(())
}

async fn apply_row(backend: Backend, conn: &mut AnyConnection, r: &Row) -> Result<()> {
    match r {
        Row::Incident(i) => {
            run(
                backend,
                conn,
                "INSERT INTO incidents (id, jurisdiction_id, jurisdiction_path, plan_id, plan_version, kind, status, level, drill, headcount, title, reported_at, updated_at, next_due_ms, body) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, level = excluded.level, headcount = excluded.headcount, title = excluded.title, updated_at = excluded.updated_at, next_due_ms = excluded.next_due_ms, body = excluded.body",
                |q| {
                    q.bind(i.id.to_string())
                        .bind(i.jurisdiction_id.to_string())
                        .bind(i.jurisdiction_path.clone())
                        .bind(i.plan_id.clone())
                        .bind(i.plan_version)
                        .bind(i.kind.clone())
                        .bind(i.status.clone())
                        .bind(i.level.clone())
                        .bind(b(i.drill))
                        .bind(i.headcount)
                        .bind(i.title.clone())
                        .bind(i.reported_at.clone())
                        .bind(i.updated_at.clone())
                        .bind(i.next_due_ms)
                        .bind(i.body.clone())
                },
            )
            .await?;
        }
        Row::Tasks { incident_id, tasks } => {
            // Tasks are never removed from an incident: upsert each one (a delete-and-insert of
            // all of them would make every write cost as much as the incident's history).
            for t in tasks {
                let assignees = serde_json::to_string(
                    &t.assignees
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>(),
                )
                .map_err(|e| StoreError::Other(e.into()))?;
                run(
                    backend,
                    conn,
                    "INSERT INTO tasks (id, incident_id, jurisdiction_path, grp, title, state, due_at, overdue, drill, assignees) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (id) DO UPDATE SET state = excluded.state, due_at = excluded.due_at, overdue = excluded.overdue, assignees = excluded.assignees",
                    |q| {
                        q.bind(t.id.to_string())
                            .bind(incident_id.to_string())
                            .bind(t.jurisdiction_path.clone())
                            .bind(t.group.clone())
                            .bind(t.title.clone())
                            .bind(t.state.clone())
                            .bind(t.due_at.clone())
                            .bind(b(t.overdue))
                            .bind(b(t.drill))
                            .bind(assignees)
                    },
                )
                .await?;
                for a in &t.assignees {
                    run(
                        backend,
                        conn,
                        "INSERT INTO task_assignees (task_id, person_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        |q| q.bind(t.id.to_string()).bind(a.to_string()),
                    )
                    .await?;
                }
            }
        }
        Row::Jurisdiction(j) => {
            run(
                backend,
                conn,
                "INSERT INTO jurisdictions (id, parent_id, name, kind, code, path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, code = excluded.code",
                |q| {
                    q.bind(j.id.to_string())
                        .bind(j.parent_id.map(|p| p.to_string()))
                        .bind(j.name.clone())
                        .bind(j.kind.clone())
                        .bind(j.code.clone())
                        .bind(j.path.clone())
                        .bind(j.created_at.clone())
                },
            )
            .await?;
        }
        Row::Person(p) => {
            run(
                backend,
                conn,
                "INSERT INTO people (id, jurisdiction_id, name, phone, email, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone, email = excluded.email, token_hash = excluded.token_hash",
                |q| {
                    q.bind(p.id.to_string())
                        .bind(p.jurisdiction_id.to_string())
                        .bind(p.name.clone())
                        .bind(p.phone.clone())
                        .bind(p.email.clone())
                        .bind(p.token_hash.clone())
                        .bind(p.created_at.clone())
                },
            )
            .await?;
        }
        Row::PostHolder(h) => {
            run(
                backend,
                conn,
                "INSERT INTO post_holders (jurisdiction_id, post_id, person_id, deputy) VALUES (?, ?, ?, ?) \
                 ON CONFLICT (jurisdiction_id, post_id, person_id) DO UPDATE SET deputy = excluded.deputy",
                |q| q.bind(h.jurisdiction_id.to_string()).bind(h.post_id.clone()).bind(h.person_id.to_string()).bind(b(h.deputy)),
            )
            .await?;
        }
        Row::RemovePostHolder {
            jurisdiction_id,
            post_id,
            person_id,
        } => {
            run(backend, conn, "DELETE FROM post_holders WHERE jurisdiction_id = ? AND post_id = ? AND person_id = ?", |q| {
                q.bind(jurisdiction_id.to_string()).bind(post_id.clone()).bind(person_id.to_string())
            })
            .await?;
        }
        Row::Plan(p) => {
            run(
                backend,
                conn,
                "INSERT INTO plans (plan_id, version, jurisdiction_id, title, source, sha256, loaded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                |q| {
                    q.bind(p.plan_id.clone())
                        .bind(p.version)
                        .bind(p.jurisdiction_id.to_string())
                        .bind(p.title.clone())
                        .bind(p.source.clone())
                        .bind(p.sha256.clone())
                        .bind(p.loaded_at.clone())
                },
            )
            .await?;
        }
        Row::Outbox(o) => {
            run(
                backend,
                conn,
                "INSERT INTO outbox (id, event_id, kind, payload, state, attempts, next_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
                |q| {
                    q.bind(o.id.to_string())
                        .bind(o.event_id.to_string())
                        .bind(o.kind.clone())
                        .bind(o.payload.clone())
                        .bind(o.next_at.clone())
                        .bind(o.created_at.clone())
                },
            )
            .await?;
        }
    }
    Ok(())
}

fn uuid_col(r: &sqlx::any::AnyRow, i: usize) -> Result<Uuid> {
    parse_uuid(&r.try_get::<String, _>(i)?)
}

fn opt_uuid_col(r: &sqlx::any::AnyRow, i: usize) -> Result<Option<Uuid>> {
    match r.try_get::<Option<String>, _>(i)? {
        Some(s) => Ok(Some(parse_uuid(&s)?)),
        None => Ok(None),
    }
}

fn jurisdiction_from(r: &sqlx::any::AnyRow) -> Result<JurisdictionRow> {
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

fn person_from(r: &sqlx::any::AnyRow) -> Result<PersonRow> {
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

fn plan_from(r: &sqlx::any::AnyRow) -> Result<PlanRow> {
    Ok(PlanRow {
        plan_id: r.try_get(0)?,
        version: r.try_get(1)?,
        jurisdiction_id: uuid_col(r, 2)?,
        title: r.try_get(3)?,
        source: r.try_get(4)?,
        sha256: r.try_get(5)?,
        loaded_at: r.try_get(6)?,
    })
}

const PLAN_COLS: &str = "plan_id, version, jurisdiction_id, title, source, sha256, loaded_at";
const PERSON_COLS: &str = "id, jurisdiction_id, name, phone, email, token_hash, created_at";
const JUR_COLS: &str = "id, parent_id, name, kind, code, path, created_at";

impl Store {
    pub async fn get_incident(&self, id: Uuid) -> Result<Option<IncidentRecord>> {
        let row = sqlx::query(&self.q(
            "SELECT i.id, i.jurisdiction_id, i.jurisdiction_path, s.version, s.head_hash, i.body FROM incidents i JOIN streams s ON s.id = i.id WHERE i.id = ?",
        ))
        .bind(id.to_string())
        .fetch_optional(self.pool())
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

    pub async fn list_incidents(&self, f: &IncidentFilter) -> Result<Vec<IncidentSummary>> {
        let (lo, hi) = subtree_range(&f.scope_path);
        let mut sql = String::from(
            "SELECT id, jurisdiction_id, plan_id, plan_version, kind, status, level, drill, headcount, title, reported_at, updated_at FROM incidents WHERE jurisdiction_path >= ? AND jurisdiction_path < ?",
        );
        if f.status.is_some() {
            sql.push_str(" AND status = ?");
        }
        if f.level.is_some() {
            sql.push_str(" AND level = ?");
        }
        if f.drill.is_some() {
            sql.push_str(" AND drill = ?");
        }
        if f.from.is_some() {
            sql.push_str(" AND reported_at >= ?");
        }
        if f.to.is_some() {
            sql.push_str(" AND reported_at < ?");
        }
        if f.before.is_some() {
            sql.push_str(" AND id < ?");
        }
        sql.push_str(" ORDER BY id DESC LIMIT ?");
        let text = self.q(&sql);
        let mut q = sqlx::query(&text).bind(lo).bind(hi);
        if let Some(s) = &f.status {
            q = q.bind(s.clone());
        }
        if let Some(l) = &f.level {
            q = q.bind(l.clone());
        }
        if let Some(d) = f.drill {
            q = q.bind(b(d));
        }
        if let Some(x) = &f.from {
            q = q.bind(x.clone());
        }
        if let Some(x) = &f.to {
            q = q.bind(x.clone());
        }
        if let Some(x) = f.before {
            q = q.bind(x.to_string());
        }
        q = q.bind(f.limit);
        let rows = q.fetch_all(self.pool()).await?;
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
                    drill: r.try_get::<i64, _>(7)? != 0,
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
        let rows = sqlx::query(&self.q(
            "SELECT id FROM incidents WHERE next_due_ms IS NOT NULL AND next_due_ms <= ? ORDER BY next_due_ms LIMIT ?",
        ))
        .bind(now_ms)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    pub async fn list_tasks(&self, f: &TaskFilter) -> Result<Vec<(TaskRow, String)>> {
        let (lo, hi) = subtree_range(&f.scope_path);
        let mut sql = String::from(
            "SELECT t.id, t.incident_id, t.jurisdiction_path, t.grp, t.title, t.state, t.due_at, t.overdue, t.drill, t.assignees, i.title FROM tasks t JOIN incidents i ON i.id = t.incident_id WHERE t.jurisdiction_path >= ? AND t.jurisdiction_path < ?",
        );
        if f.assignee.is_some() {
            sql.push_str(" AND t.id IN (SELECT task_id FROM task_assignees WHERE person_id = ?)");
        }
        if f.state.is_some() {
            sql.push_str(" AND t.state = ?");
        }
        if f.overdue.is_some() {
            sql.push_str(" AND t.overdue = ?");
        }
        if f.drill.is_some() {
            sql.push_str(" AND t.drill = ?");
        }
        sql.push_str(" ORDER BY t.due_at LIMIT ?");
        let text = self.q(&sql);
        let mut q = sqlx::query(&text).bind(lo).bind(hi);
        if let Some(a) = f.assignee {
            q = q.bind(a.to_string());
        }
        if let Some(s) = &f.state {
            q = q.bind(s.clone());
        }
        if let Some(o) = f.overdue {
            q = q.bind(b(o));
        }
        if let Some(d) = f.drill {
            q = q.bind(b(d));
        }
        q = q.bind(f.limit);
        let rows = q.fetch_all(self.pool()).await?;
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
                        overdue: r.try_get::<i64, _>(7)? != 0,
                        drill: r.try_get::<i64, _>(8)? != 0,
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
        let row = sqlx::query(&self.q("SELECT incident_id FROM tasks WHERE id = ?"))
            .bind(task_id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| uuid_col(&r, 0)).transpose()
    }

    pub async fn jurisdiction(&self, id: Uuid) -> Result<Option<JurisdictionRow>> {
        let row = sqlx::query(&self.q(&format!(
            "SELECT {JUR_COLS} FROM jurisdictions WHERE id = ?"
        )))
        .bind(id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| jurisdiction_from(&r)).transpose()
    }

    pub async fn list_jurisdictions(&self, scope_path: &str) -> Result<Vec<JurisdictionRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = sqlx::query(&self.q(&format!(
            "SELECT {JUR_COLS} FROM jurisdictions WHERE path >= ? AND path < ? ORDER BY path"
        )))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(jurisdiction_from).collect()
    }

    pub async fn jurisdiction_count(&self) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) FROM jurisdictions")
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get(0)?)
    }

    pub async fn person(&self, id: Uuid) -> Result<Option<PersonRow>> {
        let row = sqlx::query(&self.q(&format!("SELECT {PERSON_COLS} FROM people WHERE id = ?")))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.map(|r| person_from(&r)).transpose()
    }

    pub async fn person_by_token(&self, token_hash: &str) -> Result<Option<PersonRow>> {
        let row = sqlx::query(&self.q(&format!(
            "SELECT {PERSON_COLS} FROM people WHERE token_hash = ?"
        )))
        .bind(token_hash.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| person_from(&r)).transpose()
    }

    pub async fn list_people(&self, scope_path: &str) -> Result<Vec<PersonRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = sqlx::query(&self.q(
            "SELECT p.id, p.jurisdiction_id, p.name, p.phone, p.email, p.token_hash, p.created_at FROM people p JOIN jurisdictions j ON j.id = p.jurisdiction_id WHERE j.path >= ? AND j.path < ? ORDER BY p.name"
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(person_from).collect()
    }

    /// Who holds a post in a jurisdiction: principals first, then deputies.
    pub async fn holders(
        &self,
        jurisdiction_id: Uuid,
        post_id: &str,
    ) -> Result<Vec<(Uuid, String, bool)>> {
        let rows = sqlx::query(&self.q(
            "SELECT h.person_id, p.name, h.deputy FROM post_holders h JOIN people p ON p.id = h.person_id WHERE h.jurisdiction_id = ? AND h.post_id = ? ORDER BY h.deputy, p.name",
        ))
        .bind(jurisdiction_id.to_string())
        .bind(post_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?, r.try_get::<i64, _>(2)? != 0)))
            .collect()
    }

    /// Every post holder in a jurisdiction: (post, person, name, deputy).
    pub async fn holders_in(
        &self,
        jurisdiction_id: Uuid,
    ) -> Result<Vec<(String, Uuid, String, bool)>> {
        let rows = sqlx::query(&self.q(
            "SELECT h.post_id, h.person_id, p.name, h.deputy FROM post_holders h JOIN people p ON p.id = h.person_id WHERE h.jurisdiction_id = ? ORDER BY h.post_id, h.deputy, p.name",
        ))
        .bind(jurisdiction_id.to_string())
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    uuid_col(r, 1)?,
                    r.try_get(2)?,
                    r.try_get::<i64, _>(3)? != 0,
                ))
            })
            .collect()
    }

    pub async fn plan_latest(&self, plan_id: &str) -> Result<Option<PlanRow>> {
        let row = sqlx::query(&self.q(&format!(
            "SELECT {PLAN_COLS} FROM plans WHERE plan_id = ? ORDER BY version DESC LIMIT 1"
        )))
        .bind(plan_id.to_string())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| plan_from(&r)).transpose()
    }

    pub async fn plan_version(&self, plan_id: &str, version: i64) -> Result<Option<PlanRow>> {
        let row = sqlx::query(&self.q(&format!(
            "SELECT {PLAN_COLS} FROM plans WHERE plan_id = ? AND version = ?"
        )))
        .bind(plan_id.to_string())
        .bind(version)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| plan_from(&r)).transpose()
    }

    /// Every version of every plan owned inside a subtree, newest version first per plan.
    pub async fn list_plans(&self, scope_path: &str) -> Result<Vec<PlanRow>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = sqlx::query(&self.q(
            "SELECT p.plan_id, p.version, p.jurisdiction_id, p.title, p.source, p.sha256, p.loaded_at FROM plans p JOIN jurisdictions j ON j.id = p.jurisdiction_id WHERE j.path >= ? AND j.path < ? ORDER BY p.plan_id, p.version DESC",
        ))
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(plan_from).collect()
    }

    pub async fn idempotency(
        &self,
        actor_id: Uuid,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>> {
        let row = sqlx::query(&self.q(
            "SELECT actor_id, key, request_hash, status, response, created_at FROM idempotency WHERE actor_id = ? AND key = ?",
        ))
        .bind(actor_id.to_string())
        .bind(key.to_string())
        .fetch_optional(self.pool())
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
        let r = sqlx::query(&self.q("SELECT COUNT(*) FROM outbox WHERE state = ?"))
            .bind(state.to_string())
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get(0)?)
    }

    pub async fn event_count(&self) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) FROM events")
            .fetch_one(self.pool())
            .await?;
        Ok(r.try_get(0)?)
    }
}
