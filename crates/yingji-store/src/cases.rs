//! Reads for petition cases, dispute screening and scheduled reports (migration 0003). Writes go
//! through `Row::Sql` statements built by the server.

use sqlx::Row as _;
use uuid::Uuid;

use crate::rows::{bool_col, uuid_col, vals};
use crate::{Result, Store, Val, subtree_range};

/// A stored case with its stream head.
#[derive(Debug, Clone)]
pub struct CaseRecord {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
    pub version: i64,
    pub head_hash: String,
    pub body: String,
    pub petitioners: Vec<PetitionerRow>,
    /// The case's subject key (its petitioners' values and the masks in its registration event
    /// are sealed with it); None for a case registered before migration 0013 or purged.
    pub subject_key: Option<SubjectKeyRow>,
}

/// A data subject's key as stored: wrapped (sealed) with the data key ring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectKeyRow {
    pub id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// `sealed1:<data key id>:<hex>` of the key's 64 hex digits.
    pub wrapped_key: String,
}

fn subject_key_row(r: &sqlx::any::AnyRow) -> Result<SubjectKeyRow> {
    Ok(SubjectKeyRow {
        id: uuid_col(r, 0)?,
        subject_kind: r.try_get(1)?,
        subject_id: uuid_col(r, 2)?,
        wrapped_key: r.try_get(3)?,
    })
}

const SUBJECT_KEY: &str = "yj_text(id), subject_kind, yj_text(subject_id), wrapped_key";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PetitionerRow {
    pub ordinal: i64,
    pub name: String,
    /// Sealed (`sealed1:…`), or in clear when stored before sealing (until `yingji rekey`).
    pub contact: Option<String>,
    pub address: Option<String>,
    pub id_number: Option<String>,
    /// When `yingji purge` erased the sealed values.
    pub purged_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CaseSummary {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub case_number: String,
    pub status: String,
    pub channel: String,
    pub category: Option<String>,
    pub topic: Option<String>,
    pub department: Option<String>,
    pub title: String,
    pub accepted_on: String,
    pub due_on: String,
    pub due_ms: i64,
    pub overdue: bool,
    pub extended: bool,
    pub supervision_step: Option<String>,
}

/// Which cases to list. `due_from_ms..due_to_ms` selects open cases by due time, in due order;
/// without it cases come newest first.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub scope_path: String,
    pub status: Option<String>,
    pub open_due_from_ms: Option<i64>,
    pub open_due_to_ms: Option<i64>,
    pub supervised: bool,
    /// Only cases whose extension request waits for a decision.
    pub extension_requested: bool,
    /// Only cases of this category (`administrative`, `judicial`, `other`).
    pub category: Option<String>,
    /// Only cases accepted on or after this day (YYYY-MM-DD)…
    pub accepted_from: Option<String>,
    /// …and on or before this one.
    pub accepted_to: Option<String>,
    pub before: Option<Uuid>,
    pub limit: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatRow {
    pub key: String,
    pub received: i64,
    pub replied: i64,
    pub on_time: i64,
    pub overdue: i64,
    pub extended: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
}

#[derive(Debug, Clone)]
pub struct StreamRecord {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
    pub version: i64,
    pub head_hash: String,
    pub body: String,
}

#[derive(Debug, Clone)]
pub struct RoundRow {
    pub id: Uuid,
    pub jurisdiction_id: Uuid,
    pub jurisdiction_path: String,
    pub cadence: String,
    pub round_key: String,
    pub opened_at: String,
}

#[derive(Debug, Clone)]
pub struct ScreeningSubmissionRow {
    pub unit_id: Uuid,
    pub nil: bool,
    pub disputes_found: i64,
    pub note: Option<String>,
    pub submitted_by: String,
    pub submitted_at: String,
}

#[derive(Debug, Clone)]
pub struct ReportSubmissionRow {
    pub schedule_id: String,
    pub due_at: String,
    pub party: String,
    pub nil: bool,
    pub content: String,
    pub submitted_at: String,
}

const CASE_SUMMARY: &str = "yj_text(id), yj_text(jurisdiction_id), case_number, status, channel, category, topic, department, title, yj_text(accepted_on), yj_text(due_on), due_ms, overdue, extended, supervision_step";

fn case_summary(r: &sqlx::any::AnyRow) -> Result<CaseSummary> {
    Ok(CaseSummary {
        id: uuid_col(r, 0)?,
        jurisdiction_id: uuid_col(r, 1)?,
        case_number: r.try_get(2)?,
        status: r.try_get(3)?,
        channel: r.try_get(4)?,
        category: r.try_get(5)?,
        topic: r.try_get(6)?,
        department: r.try_get(7)?,
        title: r.try_get(8)?,
        accepted_on: r.try_get(9)?,
        due_on: r.try_get(10)?,
        due_ms: r.try_get(11)?,
        overdue: bool_col(r, 12)?,
        extended: bool_col(r, 13)?,
        supervision_step: r.try_get(14)?,
    })
}

fn petitioner_row(p: &sqlx::any::AnyRow) -> Result<PetitionerRow> {
    Ok(PetitionerRow {
        ordinal: p.try_get(0)?,
        name: p.try_get(1)?,
        contact: p.try_get(2)?,
        address: p.try_get(3)?,
        id_number: p.try_get(4)?,
        purged_at: p.try_get(5)?,
    })
}

impl Store {
    pub async fn get_case(&self, id: Uuid) -> Result<Option<CaseRecord>> {
        let row = self.fetch_optional(
            "SELECT yj_text(c.id), yj_text(c.jurisdiction_id), c.jurisdiction_path, s.version, s.head_hash, yj_text(c.body) FROM cases c JOIN streams s ON s.id = c.id WHERE c.id = ?",
            &vals![id],
        )
        .await?;
        let Some(r) = row else { return Ok(None) };
        let pet = self.fetch_all(
            "SELECT ordinal, petitioner_name, petitioner_contact, petitioner_address, petitioner_id_number, yj_text(purged_at) FROM case_petitioners WHERE case_id = ? ORDER BY ordinal",
            &vals![id],
        )
        .await?;
        Ok(Some(CaseRecord {
            id: uuid_col(&r, 0)?,
            jurisdiction_id: uuid_col(&r, 1)?,
            jurisdiction_path: r.try_get(2)?,
            version: r.try_get(3)?,
            head_hash: r.try_get(4)?,
            body: r.try_get(5)?,
            petitioners: pet.iter().map(petitioner_row).collect::<Result<_>>()?,
            subject_key: self.subject_key("case", id).await?,
        }))
    }

    /// The notices to a case's petitioners (outbox rows of kind `petitioner_notice` written
    /// with the case's events): id and payload, which names the contacts they went to.
    pub async fn petitioner_notices(&self, case_id: Uuid) -> Result<Vec<(Uuid, String)>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(o.id), yj_text(o.payload) FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.stream_id = ? AND o.kind = 'petitioner_notice' ORDER BY o.id",
                &vals![case_id],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?)))
            .collect()
    }

    /// A data subject's key (`case`, `incident`, `dispute`), if it has one.
    pub async fn subject_key(&self, kind: &str, subject_id: Uuid) -> Result<Option<SubjectKeyRow>> {
        let row = self
            .fetch_optional(
                &format!("SELECT {SUBJECT_KEY} FROM subject_keys WHERE subject_kind = ? AND subject_id = ?"),
                &vals![kind, subject_id],
            )
            .await?;
        row.map(|r| subject_key_row(&r)).transpose()
    }

    /// Makes deleted and overwritten values of `tables` unrecoverable from the database files
    /// (after `yingji purge`, which has already committed). SQLite (which overwrites deleted
    /// content with zeros on every connection, `secure_delete`): `VACUUM`, which leaves no free
    /// page from before, then a `TRUNCATE` checkpoint, which copies the WAL into the database
    /// file and empties it. PostgreSQL: `VACUUM FULL` of the tables, which rewrites them into
    /// new files without their dead rows (it cannot run inside a transaction and locks each
    /// table for its time; the WAL segments PostgreSQL keeps for recovery and replication still
    /// hold the old rows until it recycles them). Answers false when SQLite could not empty the
    /// WAL because readers kept reading for two seconds (run it again).
    pub async fn erase_deleted(&self, tables: &[&'static str]) -> Result<bool> {
        match self.backend() {
            crate::Backend::Sqlite => {
                let mut conn = self.pool().acquire().await?;
                sqlx::query("VACUUM").execute(&mut *conn).await?;
                // A reader in the middle of a read (the outbox worker, the ticker, a page)
                // holds the WAL until it finishes, which is milliseconds: try again for up
                // to two seconds before answering "run it again".
                for attempt in 0..40 {
                    let r = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(&mut *conn)
                        .await?;
                    let busy: i64 = r.try_get(0)?;
                    if busy == 0 {
                        return Ok(true);
                    }
                    if attempt < 39 {
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                }
                Ok(false)
            }
            crate::Backend::Postgres => {
                if !tables.is_empty() {
                    let sql = format!("VACUUM FULL {}", tables.join(", "));
                    sqlx::query(&sql).execute(self.pool()).await?;
                }
                Ok(true)
            }
        }
    }

    /// Every subject key (for `yingji rekey`).
    pub async fn all_subject_keys(&self) -> Result<Vec<SubjectKeyRow>> {
        let rows = self
            .fetch_all(
                &format!("SELECT {SUBJECT_KEY} FROM subject_keys ORDER BY id"),
                &[],
            )
            .await?;
        rows.iter().map(subject_key_row).collect()
    }

    /// Every petitioner row with its case id (for `yingji rekey`).
    pub async fn all_case_petitioners(&self) -> Result<Vec<(Uuid, PetitionerRow)>> {
        let rows = self.fetch_all(
            "SELECT ordinal, petitioner_name, petitioner_contact, petitioner_address, petitioner_id_number, yj_text(purged_at), yj_text(case_id) FROM case_petitioners ORDER BY case_id, ordinal",
            &[],
        )
        .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 6)?, petitioner_row(r)?)))
            .collect()
    }

    /// The first top-level jurisdiction (where system-wide events such as a purge are filed).
    pub async fn root_jurisdiction_id(&self) -> Result<Option<Uuid>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(id) FROM jurisdictions WHERE parent_id IS NULL ORDER BY created_at, id LIMIT 1",
                &[],
            )
            .await?;
        row.map(|r| uuid_col(&r, 0)).transpose()
    }

    /// Cases no longer open (replied or closed) whose last change was before `cutoff` (a
    /// `fmt_ts` time) and whose petitioners' personal data has not been purged yet.
    pub async fn purgeable_cases(&self, cutoff: &str) -> Result<Vec<Uuid>> {
        let rows = self.fetch_all(
            "SELECT DISTINCT yj_text(c.id) FROM cases c JOIN case_petitioners p ON p.case_id = c.id WHERE c.is_open = FALSE AND c.updated_at < ? AND p.purged_at IS NULL ORDER BY 1",
            &[Val::ts(cutoff)],
        )
        .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    /// Closed disputes whose last change was before `cutoff` (a `fmt_ts` time) and whose key
    /// (sealing their parties' names) has not been destroyed yet.
    pub async fn purgeable_disputes(&self, cutoff: &str) -> Result<Vec<Uuid>> {
        let rows = self.fetch_all(
            "SELECT yj_text(d.id) FROM disputes d JOIN subject_keys k ON k.subject_kind = 'dispute' AND k.subject_id = d.id WHERE d.status = 'closed' AND d.updated_at < ? ORDER BY 1",
            &[Val::ts(cutoff)],
        )
        .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    /// Incidents closed (or found unfounded) whose last change was before `cutoff` and whose
    /// key (sealing their personal intake values) has not been destroyed yet.
    pub async fn purgeable_incidents(&self, cutoff: &str) -> Result<Vec<Uuid>> {
        let rows = self.fetch_all(
            "SELECT yj_text(i.id) FROM incidents i JOIN subject_keys k ON k.subject_kind = 'incident' AND k.subject_id = i.id WHERE i.status IN ('closed', 'unfounded') AND i.updated_at < ? ORDER BY 1",
            &[Val::ts(cutoff)],
        )
        .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    pub async fn case_by_number(&self, number: &str) -> Result<Option<Uuid>> {
        let row = self
            .fetch_optional(
                "SELECT yj_text(id) FROM cases WHERE case_number = ?",
                &vals![number],
            )
            .await?;
        row.map(|r| uuid_col(&r, 0)).transpose()
    }

    /// One case's summary row.
    pub async fn case_summary(&self, id: Uuid) -> Result<Option<CaseSummary>> {
        let row = self
            .fetch_optional(
                &format!("SELECT {CASE_SUMMARY} FROM cases WHERE id = ?"),
                &vals![id],
            )
            .await?;
        row.map(|r| case_summary(&r)).transpose()
    }

    /// Other cases in a subtree with a petitioner of this name, newest first: the earlier
    /// petitions a registrar may link a repeated one to (migration 0014 indexes the name).
    pub async fn cases_with_petitioner(
        &self,
        name: &str,
        scope_path: &str,
        except: Uuid,
        limit: i64,
    ) -> Result<Vec<CaseSummary>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self
            .fetch_all(
                &format!(
                    "SELECT {CASE_SUMMARY} FROM cases WHERE id IN (SELECT case_id FROM case_petitioners WHERE petitioner_name = ?) AND id <> ? AND jurisdiction_path >= ? AND jurisdiction_path < ? ORDER BY id DESC LIMIT ?"
                ),
                &vals![name, except, lo, hi, limit],
            )
            .await?;
        rows.iter().map(case_summary).collect()
    }

    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<CaseSummary>> {
        let (lo, hi) = subtree_range(&f.scope_path);
        let mut sql = format!(
            "SELECT {CASE_SUMMARY} FROM cases WHERE jurisdiction_path >= ? AND jurisdiction_path < ?"
        );
        let mut args: Vec<Val> = vec![lo.into(), hi.into()];
        let by_due = f.open_due_from_ms.is_some() || f.open_due_to_ms.is_some();
        if by_due {
            sql.push_str(" AND is_open = TRUE");
            if let Some(a) = f.open_due_from_ms {
                sql.push_str(" AND due_ms >= ?");
                args.push(a.into());
            }
            if let Some(b) = f.open_due_to_ms {
                sql.push_str(" AND due_ms < ?");
                args.push(b.into());
            }
        }
        if let Some(s) = &f.status {
            sql.push_str(" AND status = ?");
            args.push(s.into());
        }
        if f.supervised {
            sql.push_str(" AND supervision_step IS NOT NULL");
        }
        if f.extension_requested {
            sql.push_str(" AND extension_requested = TRUE");
        }
        if let Some(c) = &f.category {
            sql.push_str(" AND category = ?");
            args.push(c.into());
        }
        if let Some(d) = &f.accepted_from {
            sql.push_str(" AND accepted_on >= ?");
            args.push(Val::Date(d.clone()));
        }
        if let Some(d) = &f.accepted_to {
            sql.push_str(" AND accepted_on <= ?");
            args.push(Val::Date(d.clone()));
        }
        if let Some(b) = f.before {
            sql.push_str(" AND id < ?");
            args.push(b.into());
        }
        if by_due {
            sql.push_str(" ORDER BY is_open, due_ms, jurisdiction_path LIMIT ?");
        } else {
            // Newest first: the matching cases of the subtree are counted first; many are
            // found by walking all cases newest first rather than reading and sorting the
            // subtree's history (as the incident list does).
            let head = format!(
                "SELECT {CASE_SUMMARY} FROM cases WHERE jurisdiction_path >= ? AND jurisdiction_path < ?"
            );
            let filters = sql[head.len()..].to_string();
            let (lo, hi) = subtree_range(&f.scope_path);
            let shape = self
                .subtree_shape("cases", "jurisdiction_path", &lo, &hi, &filters, &args[2..])
                .await?;
            let large = shape == crate::rows::Shape::Large;
            let path = crate::rows::scope_condition_of("jurisdiction_path", shape);
            let filters = if large && self.backend() == crate::Backend::Sqlite {
                filters.replace(" AND status = ?", " AND (status || '') = ?")
            } else {
                filters
            };
            sql = format!(
                "SELECT {CASE_SUMMARY} FROM cases WHERE {path}{filters} ORDER BY id DESC LIMIT ?"
            );
        }
        args.push(f.limit.into());
        let rows = self.fetch_all(&sql, &args).await?;
        rows.iter().map(case_summary).collect()
    }

    /// Open cases with something falling due at or before `now_ms`.
    pub async fn due_cases(&self, now_ms: i64, limit: i64) -> Result<Vec<Uuid>> {
        let rows = self.fetch_all(
            "SELECT yj_text(id) FROM cases WHERE next_due_ms IS NOT NULL AND next_due_ms <= ? ORDER BY next_due_ms LIMIT ?",
            &vals![now_ms, limit],
        )
        .await?;
        rows.iter().map(|r| uuid_col(r, 0)).collect()
    }

    /// The last case number used in a jurisdiction and year.
    pub async fn case_counter(&self, jurisdiction_id: Uuid, year: i64) -> Result<Option<i64>> {
        let row = self
            .fetch_optional(
                "SELECT last_seq FROM case_counters WHERE jurisdiction_id = ? AND year = ?",
                &vals![jurisdiction_id, year],
            )
            .await?;
        Ok(match row {
            Some(r) => Some(r.try_get(0)?),
            None => None,
        })
    }

    /// Statistics for a subtree over some quarters (`2026Q1`), grouped by `by` (`department`,
    /// `category`, `channel`, `jurisdiction` (the key is the jurisdiction path) or `total`). The quarters are listed (not a range) so that both
    /// backends seek the primary key once per quarter with the path range inside it.
    pub async fn case_stats(
        &self,
        scope_path: &str,
        quarters: &[String],
        by: &str,
    ) -> Result<Vec<StatRow>> {
        let marks = vec!["?"; quarters.len().max(1)].join(", ");
        let (lo, hi) = subtree_range(scope_path);
        let key = match by {
            "department" => Some("department"),
            "category" => Some("category"),
            "channel" => Some("channel"),
            "jurisdiction" => Some("jurisdiction_path"),
            _ => None,
        };
        let sums = [
            "received",
            "replied",
            "on_time",
            "overdue",
            "extended",
            "satisfied",
            "basically_satisfied",
            "dissatisfied",
        ]
        .map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)"))
        .join(", ");
        // PostgreSQL refuses a constant in GROUP BY: the total is an aggregate without one.
        let sql = match key {
            Some(k) => format!(
                "SELECT {k}, {sums} FROM case_stats WHERE quarter IN ({marks}) AND jurisdiction_path >= ? AND jurisdiction_path < ? GROUP BY {k} ORDER BY {k}"
            ),
            None => format!(
                "SELECT CAST('total' AS TEXT), {sums} FROM case_stats WHERE quarter IN ({marks}) AND jurisdiction_path >= ? AND jurisdiction_path < ?"
            ),
        };
        let mut args: Vec<Val> = quarters.iter().map(Val::from).collect();
        if args.is_empty() {
            args.push(Val::Null(crate::SqlType::Text));
        }
        args.push(lo.into());
        args.push(hi.into());
        let rows = self.fetch_all(&sql, &args).await?;
        rows.iter()
            .map(|r| {
                Ok(StatRow {
                    key: r.try_get(0)?,
                    received: r.try_get(1)?,
                    replied: r.try_get(2)?,
                    on_time: r.try_get(3)?,
                    overdue: r.try_get(4)?,
                    extended: r.try_get(5)?,
                    satisfied: r.try_get(6)?,
                    basically_satisfied: r.try_get(7)?,
                    dissatisfied: r.try_get(8)?,
                })
            })
            .collect()
    }

    /// A record of a stream-backed query table (`disputes`) with its stream head.
    pub async fn get_dispute(&self, id: Uuid) -> Result<Option<StreamRecord>> {
        let row = self.fetch_optional(
            "SELECT yj_text(d.id), yj_text(d.jurisdiction_id), d.jurisdiction_path, s.version, s.head_hash, yj_text(d.body) FROM disputes d JOIN streams s ON s.id = d.id WHERE d.id = ?",
            &vals![id],
        )
        .await?;
        row.map(|r| {
            Ok(StreamRecord {
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

    /// Disputes in a subtree, newest first (before the `before` cursor); `reported_upward`
    /// keeps those reported upward (or those not). The matching disputes of the subtree are
    /// counted first (up to [`crate::SMALL_LIST`]): few are read through the subtree's
    /// indexes and sorted, many are found by walking all disputes newest first.
    pub async fn list_disputes(
        &self,
        scope_path: &str,
        status: Option<&str>,
        reported_upward: Option<bool>,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<String>> {
        let (lo, hi) = subtree_range(scope_path);
        let mut filters = String::new();
        let mut fargs: Vec<Val> = Vec::new();
        if let Some(s) = status {
            filters.push_str(" AND status = ?");
            fargs.push(s.into());
        }
        if let Some(r) = reported_upward {
            filters.push_str(" AND reported_upward = ?");
            fargs.push(r.into());
        }
        if let Some(b) = before {
            filters.push_str(" AND id < ?");
            fargs.push(b.into());
        }
        let shape = self
            .subtree_shape("disputes", "jurisdiction_path", &lo, &hi, &filters, &fargs)
            .await?;
        let large = shape == crate::rows::Shape::Large;
        let path = crate::rows::scope_condition_of("jurisdiction_path", shape);
        let filters = if large && self.backend() == crate::Backend::Sqlite {
            filters.replace(" AND status = ?", " AND (status || '') = ?")
        } else {
            filters
        };
        let mut args: Vec<Val> = vec![lo.into(), hi.into()];
        args.extend(fargs);
        args.push(limit.into());
        let rows = self
            .fetch_all(
                &format!("SELECT yj_text(body) FROM disputes WHERE {path}{filters} ORDER BY id DESC LIMIT ?"),
                &args,
            )
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    pub async fn screening_round(&self, id: Uuid) -> Result<Option<RoundRow>> {
        self.round_where("id = ?", vec![id.into()]).await
    }

    pub async fn screening_round_by_key(
        &self,
        jurisdiction_id: Uuid,
        key: &str,
    ) -> Result<Option<RoundRow>> {
        self.round_where(
            "jurisdiction_id = ? AND round_key = ?",
            vec![jurisdiction_id.into(), key.into()],
        )
        .await
    }

    async fn round_where(&self, cond: &str, args: Vec<Val>) -> Result<Option<RoundRow>> {
        let row = self.fetch_optional(
            &format!(
                "SELECT yj_text(id), yj_text(jurisdiction_id), jurisdiction_path, cadence, round_key, yj_text(opened_at) FROM screening_rounds WHERE {cond}"
            ),
            &args,
        )
        .await?;
        row.map(|r| {
            Ok(RoundRow {
                id: uuid_col(&r, 0)?,
                jurisdiction_id: uuid_col(&r, 1)?,
                jurisdiction_path: r.try_get(2)?,
                cadence: r.try_get(3)?,
                round_key: r.try_get(4)?,
                opened_at: r.try_get(5)?,
            })
        })
        .transpose()
    }

    pub async fn screening_submissions(&self, round: Uuid) -> Result<Vec<ScreeningSubmissionRow>> {
        let rows = self.fetch_all(
            "SELECT yj_text(unit_id), nil, disputes_found, note, yj_text(submitted_by), yj_text(submitted_at) FROM screening_submissions WHERE round_id = ?",
            &vals![round],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ScreeningSubmissionRow {
                    unit_id: uuid_col(r, 0)?,
                    nil: bool_col(r, 1)?,
                    disputes_found: r.try_get(2)?,
                    note: r.try_get(3)?,
                    submitted_by: r.try_get(4)?,
                    submitted_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The direct children of a jurisdiction: (id, name).
    pub async fn child_jurisdictions(&self, parent: Uuid) -> Result<Vec<(Uuid, String)>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(id), name FROM jurisdictions WHERE parent_id = ? ORDER BY name",
                &vals![parent],
            )
            .await?;
        rows.iter()
            .map(|r| Ok((uuid_col(r, 0)?, r.try_get(1)?)))
            .collect()
    }

    /// Who holds a post anywhere in a subtree: (jurisdiction id, jurisdiction name, person id,
    /// deputy).
    pub async fn post_holders_below(
        &self,
        post: &str,
        scope_path: &str,
    ) -> Result<Vec<(Uuid, String, Uuid, bool)>> {
        let (lo, hi) = subtree_range(scope_path);
        let rows = self.fetch_all(
            "SELECT yj_text(h.jurisdiction_id), j.name, yj_text(h.person_id), h.deputy FROM post_holders h JOIN jurisdictions j ON j.id = h.jurisdiction_id WHERE h.post_id = ? AND j.path >= ? AND j.path < ? ORDER BY j.path, h.deputy",
            &vals![post, lo, hi],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    uuid_col(r, 0)?,
                    r.try_get(1)?,
                    uuid_col(r, 2)?,
                    bool_col(r, 3)?,
                ))
            })
            .collect()
    }

    /// Submissions for a plan's report slots due in `[from, to)` (fixed-width UTC text).
    pub async fn report_submissions(
        &self,
        plan_id: &str,
        from: &str,
        to: &str,
    ) -> Result<Vec<ReportSubmissionRow>> {
        let rows = self.fetch_all(
            "SELECT schedule_id, yj_text(due_at), party, nil, content, yj_text(submitted_at) FROM report_submissions WHERE plan_id = ? AND due_at >= ? AND due_at < ? ORDER BY due_at, party",
            &[plan_id.into(), Val::ts(from), Val::ts(to)],
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReportSubmissionRow {
                    schedule_id: r.try_get(0)?,
                    due_at: r.try_get(1)?,
                    party: r.try_get(2)?,
                    nil: bool_col(r, 3)?,
                    content: r.try_get(4)?,
                    submitted_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    pub async fn report_reminder_sent(
        &self,
        plan_id: &str,
        schedule_id: &str,
        due_at: &str,
        party: &str,
        kind: &str,
    ) -> Result<bool> {
        let row = self.fetch_optional(
            "SELECT 1 FROM report_reminders WHERE plan_id = ? AND schedule_id = ? AND due_at = ? AND party = ? AND kind = ?",
            &[plan_id.into(), schedule_id.into(), Val::ts(due_at), party.into(), kind.into()],
        )
        .await?;
        Ok(row.is_some())
    }

    /// Outbox rows of a kind (for the views and tests): payloads, oldest first.
    pub async fn outbox_payloads(&self, kind: &str) -> Result<Vec<String>> {
        let rows = self
            .fetch_all(
                "SELECT yj_text(payload) FROM outbox WHERE kind = ? ORDER BY created_at, id",
                &vals![kind],
            )
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }
}
