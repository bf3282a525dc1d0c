//! A record that cannot be rewritten unnoticed (issue 18 item 5): signed stream heads, signed
//! checkpoints, and the verification of the whole record in one snapshot.
//!
//! - Every stream head written carries `head_sig`, an HMAC-SHA-256 of the stream's id, kind,
//!   version, head hash and jurisdiction with a key derived from the operator's data key (which is
//!   never in the database). Someone who edits an event and recomputes the later hashes, or who
//!   deletes the newest events and moves the head back, cannot sign the new head.
//! - A checkpoint (every minute, when something moved) records each head that moved since the
//!   last one (`audit_checkpoint_heads`) and signs the digest of those rows together with the
//!   checkpoint before it. A stream deleted whole, a stream cut back below a checkpointed
//!   version, a checkpointed event replaced, or a checkpoint removed is then found, even when
//!   the attacker restores an older signed head.
//! - [`Store::verify`] reads every table it checks inside one snapshot (SQLite read
//!   transaction; PostgreSQL `REPEATABLE READ, READ ONLY`), streams the events in stream order
//!   (one query, no per-stream round trip), and can be limited to a subtree of jurisdictions.
//!
//! What is left: events written after the last checkpoint can be deleted together with their
//! stream by someone who also restores that stream's earlier signed head (a window of at most
//! one checkpoint interval), and the newest checkpoints themselves can be deleted with
//! everything after them; `yingji audit verify` prints the newest checkpoint so that an
//! operator who keeps its signature elsewhere can tell.

use std::collections::HashMap;

use futures_util::TryStreamExt as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use sqlx::Row as _;
use uuid::Uuid;
use yingji_domain::audit::{Broken, StoredEvent, verify_stream};

use crate::rows::{Stmt, Val, bind, subtree_range};
use crate::sql::expand;
use crate::{Backend, Result, Store, StoreError, parse_uuid};

/// The keys that sign heads and checkpoints: (key id, key), the last one signs.
#[derive(Clone)]
pub struct AuditKeys {
    keys: Vec<(String, [u8; 32])>,
}

impl std::fmt::Debug for AuditKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(i, _)| i.as_str()).collect();
        f.debug_struct("AuditKeys").field("key_ids", &ids).finish()
    }
}

/// What a signature check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigCheck {
    Valid,
    Invalid,
    UnknownKey(String),
}

impl AuditKeys {
    /// Keys given as (id, key), oldest first; the last one signs. Panics on an empty ring.
    pub fn new(keys: Vec<(String, [u8; 32])>) -> AuditKeys {
        assert!(!keys.is_empty(), "an audit key ring needs a key");
        AuditKeys { keys }
    }

    fn mac(key: &[u8; 32], msg: &str) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
        m.update(msg.as_bytes());
        m
    }

    /// The id of the key that signs.
    pub fn current_id(&self) -> &str {
        &self.keys.last().expect("a key").0
    }

    /// `<key id>:<hex HMAC-SHA-256>` of `msg` with the current key.
    pub fn sign(&self, msg: &str) -> String {
        let (id, key) = self.keys.last().expect("a key");
        format!(
            "{id}:{}",
            hex::encode(Self::mac(key, msg).finalize().into_bytes())
        )
    }

    /// Checks a signature made by [`AuditKeys::sign`] with any key of the ring (in constant
    /// time).
    pub fn check(&self, msg: &str, sig: &str) -> SigCheck {
        let Some((id, body)) = sig.split_once(':') else {
            return SigCheck::Invalid;
        };
        let Some((_, key)) = self.keys.iter().find(|(k, _)| k == id) else {
            return SigCheck::UnknownKey(id.to_string());
        };
        let Ok(bytes) = hex::decode(body) else {
            return SigCheck::Invalid;
        };
        match Self::mac(key, msg).verify_slice(&bytes) {
            Ok(()) => SigCheck::Valid,
            Err(_) => SigCheck::Invalid,
        }
    }
}

/// What a stream head's signature covers.
pub(crate) fn head_message(
    id: Uuid,
    kind: &str,
    version: i64,
    head_hash: &str,
    jurisdiction: Option<Uuid>,
) -> String {
    format!(
        "yingji-head\n{id}\n{kind}\n{version}\n{head_hash}\n{}",
        jurisdiction.map(|j| j.to_string()).unwrap_or_default()
    )
}

fn checkpoint_message(
    id: i64,
    at: &str,
    heads: i64,
    streams: i64,
    digest: &str,
    prev_sig: &str,
) -> String {
    format!("yingji-checkpoint\n{id}\n{at}\n{heads}\n{streams}\n{digest}\n{prev_sig}")
}

/// The digest of a checkpoint's rows, given in stream id order.
#[derive(Default)]
struct RowDigest {
    h: Sha256,
    n: i64,
}

impl RowDigest {
    fn add(&mut self, stream: Uuid, jurisdiction: Option<Uuid>, version: i64, head: &str) {
        let line = format!(
            "{stream}\n{}\n{version}\n{head}\n",
            jurisdiction.map(|j| j.to_string()).unwrap_or_default()
        );
        self.h.update((line.len() as u64).to_be_bytes());
        self.h.update(line.as_bytes());
        self.n += 1;
    }

    fn finish(self) -> (i64, String) {
        (self.n, hex::encode(self.h.finalize()))
    }
}

/// The columns of an incident row that lists filter and sort on.
#[derive(Debug, Clone)]
pub struct IncidentColumns {
    pub status: String,
    pub level: Option<String>,
    pub headcount: i64,
    pub title: String,
    pub drill: bool,
}

/// The newest checkpoint: its number, time and signature (for an operator to keep elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointInfo {
    pub id: i64,
    pub at: String,
    pub heads: i64,
    pub streams: i64,
    pub sig: String,
}

/// What `verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub streams: usize,
    pub events: usize,
    /// Every stream whose chain, signature or checkpoint does not check out (the first problem
    /// of each).
    pub broken: Vec<(Uuid, String, Broken)>,
    /// Checkpoints verified (all of them, whatever the scope: their rows are signed together).
    pub checkpoints: usize,
    pub last_checkpoint: Option<CheckpointInfo>,
    /// Problems of the checkpoints themselves (a row or checkpoint removed or changed, a
    /// signature that does not match). Never names a stream outside the scope.
    pub checkpoint_problems: Vec<String>,
    /// Whether signatures were checked (the store has the operator's keys).
    pub signatures_checked: bool,
}

/// One stream's rows as read in stream order.
struct Pending {
    id: Uuid,
    kind: String,
    version: i64,
    head_hash: String,
    head_sig: Option<String>,
    jurisdiction: Option<Uuid>,
    events: Vec<StoredEvent>,
}

fn other(e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("{e}"))
}

fn opt_uuid(s: Option<String>) -> Result<Option<Uuid>> {
    s.map(|s| parse_uuid(&s)).transpose()
}

impl Store {
    /// Sets the keys that sign stream heads and checkpoints (derived from the data key; see
    /// `Sealer::audit_keys`).
    pub fn set_audit_keys(&self, keys: AuditKeys) {
        *self
            .inner
            .audit_keys
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(std::sync::Arc::new(keys));
    }

    /// Forgets the signing keys (a verification without the operator's key).
    pub fn clear_audit_keys(&self) {
        *self
            .inner
            .audit_keys
            .write()
            .unwrap_or_else(|p| p.into_inner()) = None;
    }

    pub(crate) fn audit_keys(&self) -> Option<std::sync::Arc<AuditKeys>> {
        self.inner
            .audit_keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Runs statements as one durable write (the writer's transaction).
    pub(crate) async fn run_statements(&self, stmts: Vec<Stmt>) -> Result<()> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        self.inner
            .writer
            .send(crate::sqlite_writer::Job { stmts, reply })
            .await
            .map_err(|_| other("the writer has stopped"))?;
        rx.await.map_err(|_| other("the writer has stopped"))?
    }

    /// Streams of one kind filed under the subtree at `scope_path`, in id order, after `after`
    /// (for `audit verify --projections`).
    pub async fn streams_of_kind(
        &self,
        kind: &str,
        scope_path: &str,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Uuid>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                "SELECT yj_text(s.id) FROM streams s JOIN jurisdictions j ON j.id = s.jurisdiction_id WHERE s.kind = ? AND j.path >= ? AND j.path < ? AND s.id > ? ORDER BY s.id LIMIT ?",
                &crate::rows::vals![kind, lo, hi, after.unwrap_or(Uuid::nil()), limit],
            )
            .await?;
        rows.iter()
            .map(|r| parse_uuid(&r.try_get::<String, _>(0)?))
            .collect()
    }

    /// The list columns of an incident's row (for `audit verify --projections`).
    pub async fn incident_columns(&self, id: Uuid) -> Result<Option<IncidentColumns>> {
        let row = self
            .fetch_optional(
                "SELECT status, level, headcount, title, drill FROM incidents WHERE id = ?",
                &crate::rows::vals![id],
            )
            .await?;
        row.map(|r| {
            Ok(IncidentColumns {
                status: r.try_get(0)?,
                level: r.try_get(1)?,
                headcount: r.try_get(2)?,
                title: r.try_get(3)?,
                drill: crate::rows::bool_col(&r, 4)?,
            })
        })
        .transpose()
    }

    /// The newest checkpoint, if any.
    pub async fn last_checkpoint(&self) -> Result<Option<CheckpointInfo>> {
        let row = self
            .fetch_optional(
                "SELECT id, at, heads, streams, sig FROM audit_checkpoints ORDER BY id DESC LIMIT 1",
                &[],
            )
            .await?;
        row.map(|r| {
            Ok(CheckpointInfo {
                id: r.try_get(0)?,
                at: r.try_get(1)?,
                heads: r.try_get(2)?,
                streams: r.try_get(3)?,
                sig: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Signs the heads of a database that has no checkpoint yet (written before heads were
    /// signed); the caller then makes the first checkpoint. Does nothing once a checkpoint
    /// exists: from then on an unsigned head is reported as broken, never signed. Returns how
    /// many heads it signed.
    pub async fn adopt_unsigned_heads(&self) -> Result<usize> {
        let Some(keys) = self.audit_keys() else {
            return Ok(0);
        };
        if self.last_checkpoint().await?.is_some() {
            return Ok(0);
        }
        let rows = self
            .fetch_all(
                "SELECT yj_text(id), kind, version, head_hash, yj_text(jurisdiction_id) FROM streams WHERE head_sig IS NULL",
                &[],
            )
            .await?;
        let mut stmts = Vec::with_capacity(rows.len());
        for r in &rows {
            let id = parse_uuid(&r.try_get::<String, _>(0)?)?;
            let kind: String = r.try_get(1)?;
            let version: i64 = r.try_get(2)?;
            let head: String = r.try_get(3)?;
            let j = opt_uuid(r.try_get(4)?)?;
            let sig = keys.sign(&head_message(id, &kind, version, &head, j));
            stmts.push(Stmt::new(
                "UPDATE streams SET head_sig = ? WHERE id = ? AND version = ? AND head_sig IS NULL",
                crate::args![sig, id, version],
            ));
        }
        let n = stmts.len();
        for chunk in stmts.chunks(5000) {
            self.run_statements(chunk.to_vec()).await?;
        }
        Ok(n)
    }

    /// Re-signs with the current key every head validly signed with an older key of the ring
    /// (`yingji rekey`, after a key rotation), so that the older key is needed only for the
    /// checkpoints it signed. A head whose signature does not check out is left as it is: it
    /// stays reported. Returns how many heads were re-signed.
    pub async fn resign_heads(&self) -> Result<usize> {
        let Some(keys) = self.audit_keys() else {
            return Ok(0);
        };
        let rows = self
            .fetch_all(
                "SELECT yj_text(id), kind, version, head_hash, yj_text(jurisdiction_id), head_sig FROM streams WHERE head_sig IS NOT NULL",
                &[],
            )
            .await?;
        let mut stmts = Vec::new();
        for r in &rows {
            let sig: String = r.try_get(5)?;
            if sig.split(':').next() == Some(keys.current_id()) {
                continue;
            }
            let id = parse_uuid(&r.try_get::<String, _>(0)?)?;
            let kind: String = r.try_get(1)?;
            let version: i64 = r.try_get(2)?;
            let head: String = r.try_get(3)?;
            let msg = head_message(id, &kind, version, &head, opt_uuid(r.try_get(4)?)?);
            if keys.check(&msg, &sig) != SigCheck::Valid {
                continue;
            }
            stmts.push(Stmt::new(
                "UPDATE streams SET head_sig = ? WHERE id = ? AND version = ? AND head_sig = ?",
                crate::args![keys.sign(&msg), id, version, sig],
            ));
        }
        let n = stmts.len();
        for chunk in stmts.chunks(5000) {
            self.run_statements(chunk.to_vec()).await?;
        }
        Ok(n)
    }

    /// Records a signed checkpoint of every head that moved since the last one. Returns it, or
    /// None when nothing moved (or no key is set, or another process checkpointed meanwhile).
    pub async fn checkpoint(&self, at: &str) -> Result<Option<CheckpointInfo>> {
        let Some(keys) = self.audit_keys() else {
            return Ok(None);
        };
        let last = self.last_checkpoint().await?;
        let rows = self
            .fetch_all(
                "SELECT yj_text(id), yj_text(jurisdiction_id), version, head_hash, checkpointed FROM streams WHERE version <> checkpointed ORDER BY id",
                &[],
            )
            .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let id = last.as_ref().map_or(1, |c| c.id + 1);
        let mut digest = RowDigest::default();
        let mut new_streams = 0i64;
        let mut heads = Vec::with_capacity(rows.len());
        for r in &rows {
            let stream = parse_uuid(&r.try_get::<String, _>(0)?)?;
            let j = opt_uuid(r.try_get(1)?)?;
            let version: i64 = r.try_get(2)?;
            let head: String = r.try_get(3)?;
            let before: i64 = r.try_get(4)?;
            if before == 0 {
                new_streams += 1;
            }
            digest.add(stream, j, version, &head);
            heads.push(Stmt::new(
                "INSERT INTO audit_checkpoint_heads (checkpoint_id, stream_id, jurisdiction_id, version, head_hash) VALUES (?, ?, ?, ?, ?)",
                crate::args![id, stream, j, version, head],
            ));
        }
        let (n, digest) = digest.finish();
        let streams = last.as_ref().map_or(0, |c| c.streams) + new_streams;
        let prev_sig = last.as_ref().map(|c| c.sig.clone()).unwrap_or_default();
        let sig = keys.sign(&checkpoint_message(id, at, n, streams, &digest, &prev_sig));
        let mut stmts = Vec::with_capacity(heads.len() + 2);
        stmts.push(
            Stmt::new(
                "INSERT INTO audit_checkpoints (id, at, heads, streams, digest, prev_sig, sig) VALUES (?, ?, ?, ?, ?, ?, ?)",
                crate::args![id, at, n, streams, digest, prev_sig, sig.clone()],
            )
            .expect(1, crate::Conflict::Unique)
            .on_unique(crate::Conflict::Unique),
        );
        stmts.extend(heads);
        stmts.push(Stmt::new(
            "UPDATE streams SET checkpointed = version WHERE version <> checkpointed AND EXISTS (SELECT 1 FROM audit_checkpoint_heads h WHERE h.checkpoint_id = ? AND h.stream_id = streams.id AND h.version = streams.version)",
            crate::args![id],
        ));
        match self.run_statements(stmts).await {
            Ok(()) => Ok(Some(CheckpointInfo {
                id,
                at: at.to_string(),
                heads: n,
                streams,
                sig,
            })),
            // Another process made checkpoint `id` first: the next round records the rest.
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Verifies the record inside one snapshot: every checkpoint (their rows and signatures,
    /// in order), then every stream of `scope` (a jurisdiction path; None: all) with its events
    /// in order — the hash chain, the head's signature, and what the checkpoints recorded of
    /// it — and, unscoped, events whose stream row is gone.
    pub async fn verify(&self, scope: Option<&str>) -> Result<VerifyReport> {
        let keys = self.audit_keys();
        let mut report = VerifyReport {
            signatures_checked: keys.is_some(),
            ..Default::default()
        };
        let backend = self.backend();
        let mut tx = self.pool().begin().await?;
        if backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let q = |sql: &str, args: &[Val]| expand(backend, sql, args);

        // The jurisdictions inside the scope.
        let in_scope: Option<std::collections::HashSet<Uuid>> = match scope {
            None => None,
            Some(path) => {
                let (lo, hi) = subtree_range(path);
                let args = crate::args![lo, hi];
                let sql = q(
                    "SELECT yj_text(id) FROM jurisdictions WHERE path >= ? AND path < ?",
                    &args,
                );
                let rows = bind(sqlx::query(&sql), &args).fetch_all(&mut *tx).await?;
                Some(
                    rows.iter()
                        .map(|r| parse_uuid(&r.try_get::<String, _>(0)?))
                        .collect::<Result<_>>()?,
                )
            }
        };
        let scoped = |j: Option<Uuid>| match &in_scope {
            None => true,
            Some(set) => j.is_some_and(|j| set.contains(&j)),
        };

        // 1. Checkpoints, and the newest recorded head of each stream in scope.
        let mut expected: HashMap<Uuid, (i64, String)> = HashMap::new();
        {
            let sql = q(
                "SELECT id, at, heads, streams, digest, prev_sig, sig FROM audit_checkpoints ORDER BY id",
                &[],
            );
            let cps = sqlx::query(&sql).fetch_all(&mut *tx).await?;
            let sql = q(
                "SELECT checkpoint_id, yj_text(stream_id), yj_text(jurisdiction_id), version, head_hash FROM audit_checkpoint_heads ORDER BY checkpoint_id, stream_id",
                &[],
            );
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            let mut next_row: Option<sqlx::any::AnyRow> = rows.try_next().await?;
            let mut prev_sig = String::new();
            let mut prev_streams = 0i64;
            for (i, c) in cps.iter().enumerate() {
                let id: i64 = c.try_get(0)?;
                let at: String = c.try_get(1)?;
                let heads: i64 = c.try_get(2)?;
                let streams: i64 = c.try_get(3)?;
                let digest: String = c.try_get(4)?;
                let c_prev: String = c.try_get(5)?;
                let sig: String = c.try_get(6)?;
                if id != i as i64 + 1 {
                    report.checkpoint_problems.push(format!(
                        "checkpoint #{id} found where #{} was expected: a checkpoint was removed",
                        i + 1
                    ));
                }
                if c_prev != prev_sig {
                    report.checkpoint_problems.push(format!(
                        "checkpoint #{id} does not follow the checkpoint before it"
                    ));
                }
                let mut d = RowDigest::default();
                while let Some(r) = &next_row {
                    let cid: i64 = r.try_get(0)?;
                    if cid < id {
                        report.checkpoint_problems.push(format!(
                            "a row of checkpoint #{cid} has no checkpoint: a checkpoint was removed"
                        ));
                        next_row = rows.try_next().await?;
                        continue;
                    }
                    if cid > id {
                        break;
                    }
                    let stream = parse_uuid(&r.try_get::<String, _>(1)?)?;
                    let j = opt_uuid(r.try_get(2)?)?;
                    let version: i64 = r.try_get(3)?;
                    let head: String = r.try_get(4)?;
                    d.add(stream, j, version, &head);
                    if scoped(j) {
                        expected.insert(stream, (version, head));
                    }
                    next_row = rows.try_next().await?;
                }
                let (n, got) = d.finish();
                if n != heads || got != digest {
                    report.checkpoint_problems.push(format!(
                        "checkpoint #{id} of {at}: its rows were changed, added or removed ({n} rows found, {heads} signed)"
                    ));
                }
                if streams < prev_streams {
                    report.checkpoint_problems.push(format!(
                        "checkpoint #{id} counts fewer streams than the checkpoint before it"
                    ));
                }
                if let Some(k) = &keys {
                    match k.check(
                        &checkpoint_message(id, &at, heads, streams, &digest, &c_prev),
                        &sig,
                    ) {
                        SigCheck::Valid => {}
                        SigCheck::Invalid => report.checkpoint_problems.push(format!(
                            "checkpoint #{id} of {at} does not match its signature"
                        )),
                        SigCheck::UnknownKey(k) => report.checkpoint_problems.push(format!(
                            "checkpoint #{id} of {at} is signed with key {k}, which the key ring does not hold"
                        )),
                    }
                }
                prev_sig = sig.clone();
                prev_streams = streams;
                report.checkpoints += 1;
                report.last_checkpoint = Some(CheckpointInfo {
                    id,
                    at,
                    heads,
                    streams,
                    sig,
                });
            }
            while let Some(r) = next_row {
                let cid: i64 = r.try_get(0)?;
                report.checkpoint_problems.push(format!(
                    "a row of checkpoint #{cid} has no checkpoint: a checkpoint was removed"
                ));
                next_row = rows.try_next().await?;
            }
            report.checkpoint_problems.dedup();
        }
        let checkpointed = report.checkpoints > 0;

        // 2. Every stream in scope with its events, in stream order.
        {
            let mut sql = String::from(
                "SELECT yj_text(s.id), s.kind, s.version, s.head_hash, s.head_sig, yj_text(s.jurisdiction_id), yj_text(e.id), yj_text(e.stream_id), e.stream_seq, e.stream_kind, yj_text(e.jurisdiction_id), e.at, yj_text(e.actor_id), e.actor_name, e.kind, e.reason, e.payload, e.prev_hash, e.hash FROM streams s LEFT JOIN events e ON e.stream_id = s.id",
            );
            let mut args = Vec::new();
            if let Some(path) = scope {
                let (lo, hi) = subtree_range(path);
                sql.push_str(
                    " WHERE s.jurisdiction_id IN (SELECT id FROM jurisdictions WHERE path >= ? AND path < ?)",
                );
                args = crate::args![lo, hi];
            }
            sql.push_str(" ORDER BY s.id, e.stream_seq");
            // The whole the progress report counts towards (the database's events; a scoped
            // verification reads a part of them, counted as it goes).
            let total = match scope {
                None => Some(
                    sqlx::query("SELECT COUNT(*) FROM events")
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get::<i64, _>(0)? as u64,
                ),
                Some(_) => None,
            };
            self.progress("audit verify", 0, total, "events");
            let sql = q(&sql, &args);
            let mut rows = bind(sqlx::query(&sql), &args).fetch(&mut *tx);
            let mut cur: Option<Pending> = None;
            let mut read = 0u64;
            while let Some(r) = rows.try_next().await? {
                read += 1;
                if read.is_multiple_of(10_000) {
                    self.progress("audit verify", read, total, "events");
                }
                let id = parse_uuid(&r.try_get::<String, _>(0)?)?;
                if cur.as_ref().is_none_or(|p| p.id != id) {
                    if let Some(p) = cur.take() {
                        self.check_stream(
                            p,
                            keys.as_deref(),
                            checkpointed,
                            &mut expected,
                            &mut report,
                        );
                    }
                    cur = Some(Pending {
                        id,
                        kind: r.try_get(1)?,
                        version: r.try_get(2)?,
                        head_hash: r.try_get(3)?,
                        head_sig: r.try_get(4)?,
                        jurisdiction: opt_uuid(r.try_get(5)?)?,
                        events: Vec::new(),
                    });
                }
                // A stream without events has NULLs here (LEFT JOIN).
                if r.try_get::<Option<String>, _>(6)?.is_some() {
                    let p = cur.as_mut().expect("a stream");
                    p.events.push(crate::event_from_row_at(&r, 6)?);
                }
            }
            if let Some(p) = cur.take() {
                self.check_stream(p, keys.as_deref(), checkpointed, &mut expected, &mut report);
            }
            drop(rows);
            self.progress(
                "audit verify",
                total.unwrap_or(read),
                total.or(Some(read)),
                "events",
            );
        }

        // 3. Streams a checkpoint recorded that are gone.
        let mut gone: Vec<(Uuid, i64)> = expected.into_iter().map(|(id, (v, _))| (id, v)).collect();
        gone.sort();
        for (id, version) in gone {
            report
                .broken
                .push((id, "unknown".into(), Broken::Deleted { version }));
        }

        // 4. Events whose stream row is gone (whole database only).
        if scope.is_none() {
            let sql = q(
                "SELECT DISTINCT yj_text(e.stream_id), e.stream_kind FROM events e WHERE NOT EXISTS (SELECT 1 FROM streams s WHERE s.id = e.stream_id)",
                &[],
            );
            let rows = sqlx::query(&sql).fetch_all(&mut *tx).await?;
            for r in rows {
                let id = parse_uuid(&r.try_get::<String, _>(0)?)?;
                if report.broken.iter().any(|(b, _, _)| *b == id) {
                    continue;
                }
                report.broken.push((
                    id,
                    r.try_get(1)?,
                    Broken::HeadMismatch {
                        head_hash: String::new(),
                        last_hash: String::new(),
                    },
                ));
            }
        }
        tx.rollback().await?;
        Ok(report)
    }

    fn check_stream(
        &self,
        p: Pending,
        keys: Option<&AuditKeys>,
        checkpointed: bool,
        expected: &mut HashMap<Uuid, (i64, String)>,
        report: &mut VerifyReport,
    ) {
        report.streams += 1;
        report.events += p.events.len();
        let problem = (|| {
            verify_stream(&p.events, Some(&p.head_hash))?;
            if let Some((v, head)) = expected.remove(&p.id) {
                if p.version < v {
                    return Err(Broken::Truncated {
                        checkpointed: v,
                        version: p.version,
                    });
                }
                let at = p.events.get((v - 1).max(0) as usize);
                if at.is_none_or(|e| e.hash != head) {
                    return Err(Broken::Rewritten { stream_seq: v });
                }
            }
            if let Some(keys) = keys {
                match &p.head_sig {
                    // Heads written before signing existed are signed once, with the first
                    // checkpoint; after that an unsigned head was tampered with.
                    None if checkpointed => return Err(Broken::Unsigned),
                    None => {}
                    Some(sig) => {
                        let msg =
                            head_message(p.id, &p.kind, p.version, &p.head_hash, p.jurisdiction);
                        match keys.check(&msg, sig) {
                            SigCheck::Valid => {}
                            SigCheck::Invalid => return Err(Broken::BadSignature),
                            SigCheck::UnknownKey(key_id) => {
                                return Err(Broken::UnknownKey { key_id });
                            }
                        }
                    }
                }
            }
            Ok(())
        })();
        if let Err(b) = problem {
            report.broken.push((p.id, p.kind, b));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_check_with_their_key_only() {
        let a = AuditKeys::new(vec![("a".into(), [1; 32])]);
        let ring = AuditKeys::new(vec![("a".into(), [1; 32]), ("b".into(), [2; 32])]);
        let s = a.sign("m");
        assert_eq!(a.check("m", &s), SigCheck::Valid);
        assert_eq!(ring.check("m", &s), SigCheck::Valid);
        assert_eq!(a.check("n", &s), SigCheck::Invalid);
        let t = ring.sign("m");
        assert!(t.starts_with("b:"));
        assert_eq!(a.check("m", &t), SigCheck::UnknownKey("b".into()));
        assert_eq!(a.check("m", "a:zz"), SigCheck::Invalid);
        assert_eq!(a.check("m", "garbage"), SigCheck::Invalid);
    }
}
