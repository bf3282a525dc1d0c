//! Per-subject keys: crypto-shredding of personal data (issue 18 item 6).
//!
//! Every data subject — today a petition case, whose petitioners share one key — gets a random
//! 256-bit key when it is created. The key is stored wrapped (sealed) with the data key ring in
//! `subject_keys` (migration 0013), so `yingji rekey` re-wraps it when the data key rotates. The
//! subject's personal values are sealed with it: `subject1:<subject key id>:<hex nonce +
//! ciphertext>` (ChaCha20-Poly1305, the associated data naming the value's place, as for
//! `sealed1:` values), in projection rows and in event payloads alike. `yingji purge` deletes
//! the key in the same write that erases the rows' values, so every copy of a value sealed with
//! it — in the hash-chained event log, a free page, the WAL, a backup taken after the purge —
//! can no longer be opened by anyone, with or without the data key.
//!
//! The wrapped key is read with its subject (the case read brings its key), and unwrapping is
//! one AEAD open of 32 bytes, so unwrapped keys are not cached: nothing outlives the request
//! that needed it, and a destroyed key cannot linger in a cache.

use chacha20poly1305::aead::{KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key};
use jiff::Timestamp;
use uuid::Uuid;
use yingji_store::{Row, SubjectKeyRow, SubjectKeyWrite, WriteSet, fmt_ts};

use crate::sealer::{SealError, Sealer, aead_open, aead_seal};
use crate::{App, AppError};

/// The prefix of a value sealed with a subject key: `subject1:<key id>:<hex>`.
pub const PREFIX: &str = "subject1:";

/// A subject's key, unwrapped (in memory only).
#[derive(Clone)]
pub struct SubjectKey {
    id: Uuid,
    key: Key,
}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectKey").field("id", &self.id).finish()
    }
}

/// The place a subject key is wrapped for (associated data): a wrapped key copied to another
/// subject does not open.
fn wrap_aad(kind: &str, subject_id: Uuid, key_id: Uuid) -> String {
    format!("subject_keys:{kind}:{subject_id}:{key_id}")
}

/// Whether a stored value is sealed with a subject key.
pub fn is_sealed(v: &str) -> bool {
    v.starts_with(PREFIX)
}

impl SubjectKey {
    pub fn id(&self) -> Uuid {
        self.id
    }

    /// A new random key for a subject, and, in `ws`, the write that stores it wrapped with the
    /// current data key.
    pub fn create(
        ws: &mut WriteSet,
        sealer: &Sealer,
        kind: &'static str,
        subject_id: Uuid,
        now: Timestamp,
    ) -> SubjectKey {
        let key = ChaCha20Poly1305::generate_key(&mut OsRng);
        let id = Uuid::now_v7();
        ws.rows.push(Row::SubjectKey(SubjectKeyWrite::Create {
            id,
            subject_kind: kind,
            subject_id,
            wrapped_key: sealer.seal(&hex::encode(key), &wrap_aad(kind, subject_id, id)),
            created_at: fmt_ts(now),
        }));
        SubjectKey { id, key }
    }

    /// Unwraps a stored key with the data key ring.
    pub fn unwrap(sealer: &Sealer, row: &SubjectKeyRow) -> Result<SubjectKey, SealError> {
        let hex_key = sealer.open(
            &row.wrapped_key,
            &wrap_aad(&row.subject_kind, row.subject_id, row.id),
        )?;
        let bytes = hex::decode(hex_key.trim()).map_err(|_| SealError::Damaged)?;
        if bytes.len() != 32 {
            return Err(SealError::Damaged);
        }
        Ok(SubjectKey {
            id: row.id,
            key: *Key::from_slice(&bytes),
        })
    }

    /// Seals `plain` for the place named by `aad`.
    pub fn seal(&self, plain: &str, aad: &str) -> String {
        format!("{PREFIX}{}:{}", self.id, aead_seal(&self.key, plain, aad))
    }

    /// Opens a value sealed with this key for the place named by `aad`.
    pub fn open(&self, sealed: &str, aad: &str) -> Result<String, SealError> {
        let (id, body) = split(sealed)?;
        if id != self.id {
            return Err(SealError::UnknownKey(id.to_string()));
        }
        aead_open(&self.key, body, aad)
    }
}

/// The key id and body of a `subject1:` value.
fn split(sealed: &str) -> Result<(Uuid, &str), SealError> {
    let rest = sealed.strip_prefix(PREFIX).ok_or(SealError::NotSealed)?;
    let (id, body) = rest.split_once(':').ok_or(SealError::Damaged)?;
    let id = Uuid::parse_str(id).map_err(|_| SealError::Damaged)?;
    Ok((id, body))
}

/// The id of the subject key a value was sealed with (None: not a `subject1:` value).
pub fn key_id_of(sealed: &str) -> Option<Uuid> {
    split(sealed).ok().map(|(id, _)| id)
}

/// `v` with every value sealed with a subject key replaced by `mask` (an event payload shown to
/// people who may see it but not reveal what it seals).
pub fn masked_json(mut v: serde_json::Value, mask: &str) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value, mask: &str) {
        match v {
            serde_json::Value::String(s) if is_sealed(s) => *s = mask.to_string(),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| walk(x, mask)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|x| walk(x, mask)),
            _ => {}
        }
    }
    walk(&mut v, mask);
    v
}

/// A subject's key unwrapped, if it has one (an error if the data key that wrapped it is
/// missing or the row was damaged).
pub fn unwrap_row(app: &App, row: Option<&SubjectKeyRow>) -> Result<Option<SubjectKey>, AppError> {
    row.map(|r| {
        SubjectKey::unwrap(&app.sealer, r).map_err(|e| match e {
            SealError::UnknownKey(id) => AppError::new(
                crate::ErrorCode::DataKeyMissing,
                format!(
                    "the key of {} {} is wrapped with data key {id}, which is not in the key ring (it has {}); add that key before the current one (YINGJI_DATA_KEY or the key file) and retry",
                    r.subject_kind,
                    r.subject_id,
                    app.sealer.key_ids().join(", ")
                ),
            )
            .details(serde_json::json!({ "key_id": id })),
            e => AppError::internal(format!(
                "the key of {} {}: {e}",
                r.subject_kind, r.subject_id
            )),
        })
    })
    .transpose()
}

/// Wraps every subject key wrapped with an older data key again with the current one (`yingji
/// rekey`). Returns how many changed. Idempotent; safe while serving.
pub async fn rewrap_subject_keys(app: &App) -> Result<usize, AppError> {
    let mut n = 0;
    let rows = app.store.all_subject_keys().await?;
    let total = Some(rows.len() as u64);
    for (i, row) in rows.into_iter().enumerate() {
        app.store
            .progress("rekey: subject keys", i as u64, total, "keys");
        if !app.sealer.needs_rekey(&row.wrapped_key) {
            continue;
        }
        let key = unwrap_row(app, Some(&row))?.expect("a row");
        let mut ws = WriteSet::default();
        ws.rows.push(Row::SubjectKey(SubjectKeyWrite::Rewrap {
            id: row.id,
            stored: row.wrapped_key.clone(),
            wrapped_key: app.sealer.seal(
                &hex::encode(key.key),
                &wrap_aad(&row.subject_kind, row.subject_id, row.id),
            ),
        }));
        app.commit(ws).await?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_key_seals_wraps_and_rotates() {
        let old = Sealer::from_hex_keys([&"11".repeat(32) as &str]).unwrap();
        let mut ws = WriteSet::default();
        let subject = Uuid::now_v7();
        let k = SubjectKey::create(&mut ws, &old, "case", subject, Timestamp::UNIX_EPOCH);
        let Some(Row::SubjectKey(SubjectKeyWrite::Create {
            id, wrapped_key, ..
        })) = ws.rows.first().cloned()
        else {
            panic!("a create")
        };
        let row = SubjectKeyRow {
            id,
            subject_kind: "case".into(),
            subject_id: subject,
            wrapped_key,
        };
        let sealed = k.seal("13800000000", "p:a");
        assert!(is_sealed(&sealed) && !sealed.contains("13800000000"));
        assert_eq!(key_id_of(&sealed), Some(id));
        let again = SubjectKey::unwrap(&old, &row).unwrap();
        assert_eq!(again.open(&sealed, "p:a").unwrap(), "13800000000");
        assert_eq!(again.open(&sealed, "p:b"), Err(SealError::Damaged));
        // The data key alone does not open it.
        assert_eq!(old.open(&sealed, "p:a"), Err(SealError::NotSealed));
        // A wrapped key moved to another subject does not open.
        let moved = SubjectKeyRow {
            subject_id: Uuid::now_v7(),
            ..row.clone()
        };
        assert_eq!(
            SubjectKey::unwrap(&old, &moved).unwrap_err(),
            SealError::Damaged
        );
        // Another subject's key does not open it.
        let other = SubjectKey::create(&mut ws, &old, "case", subject, Timestamp::UNIX_EPOCH);
        assert!(matches!(
            other.open(&sealed, "p:a"),
            Err(SealError::UnknownKey(_))
        ));
    }
}
