//! Personal data sealed at rest (issue 7): ChaCha20-Poly1305 (AEAD) with a 256-bit key. Every
//! ciphertext carries the id of the key that sealed it, so keys can rotate: the key ring holds
//! the current key (used to seal) and older keys (used only to open). The associated data binds
//! a ciphertext to its place (e.g. `people.phone:<person id>`), so a sealed value copied into
//! another row does not open.
//!
//! Keys come from `YINGJI_DATA_KEY` (hex; several separated by commas, the LAST is current), or
//! from a key file (one hex key per line, `#` comments, the last line is current). On first
//! start with neither, a key is generated into `<data dir>/data.key` with mode 0600.
//! Rotation: append a new key line (or value), restart, run `yingji rekey` to re-seal every value
//! with the new key, then the old line may be removed. See docs/security.md.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{AeadCore, ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

/// The prefix of a sealed value: `sealed1:<key id>:<hex nonce + ciphertext>`.
pub const PREFIX: &str = "sealed1:";

/// What API output shows in place of a sealed value this process cannot open (its key is
/// missing or the value was damaged).
pub const UNREADABLE: &str = "(sealed: cannot be opened)";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the value is not sealed")]
    NotSealed,
    #[error("sealed with key {0}, which is not in the key ring")]
    UnknownKey(String),
    #[error("the sealed value is damaged or was moved from its place")]
    Damaged,
}

#[derive(Clone)]
pub struct Sealer {
    /// (key id, key); the last one seals.
    keys: Vec<(String, Key)>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

fn key_id(k: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(b"yingji-data-key-id");
    h.update(k);
    format!("{:x}", h.finalize())[..12].to_string()
}

impl Sealer {
    /// A key ring from hex keys, oldest first (the last one seals).
    pub fn from_hex_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> anyhow::Result<Sealer> {
        let mut ring = Vec::new();
        for k in keys {
            let k = k.trim();
            if k.is_empty() || k.starts_with('#') {
                continue;
            }
            let bytes =
                hex::decode(k).map_err(|_| anyhow::anyhow!("a data key must be 64 hex digits"))?;
            if bytes.len() != 32 {
                anyhow::bail!("a data key must be 32 bytes (64 hex digits)");
            }
            ring.push((key_id(&bytes), *Key::from_slice(&bytes)));
        }
        if ring.is_empty() {
            anyhow::bail!("no data key given");
        }
        Ok(Sealer { keys: ring })
    }

    /// A fresh random key held only in memory (tests; data sealed with it dies with it).
    pub fn ephemeral() -> Sealer {
        let k = ChaCha20Poly1305::generate_key(&mut OsRng);
        Sealer {
            keys: vec![(key_id(&k), k)],
        }
    }

    /// The key ring for a server: `YINGJI_DATA_KEY`, else `key_file`, else
    /// `<data_dir>/data.key` (generated with mode 0600 when missing).
    pub fn load(key_file: Option<&Path>, data_dir: Option<&Path>) -> anyhow::Result<Sealer> {
        if let Ok(v) = std::env::var("YINGJI_DATA_KEY")
            && !v.trim().is_empty()
        {
            return Self::from_hex_keys(v.split(','));
        }
        let path = match (key_file, data_dir) {
            (Some(f), _) => f.to_path_buf(),
            (None, Some(d)) => d.join("data.key"),
            (None, None) => anyhow::bail!(
                "no data key: set YINGJI_DATA_KEY or --data-key-file (PostgreSQL has no data directory to keep one in)"
            ),
        };
        if !path.exists() {
            if key_file.is_some() {
                anyhow::bail!("the data key file {} does not exist", path.display());
            }
            let k = ChaCha20Poly1305::generate_key(&mut OsRng);
            write_private(
                &path,
                &format!(
                    "# yingji data key (keep secret, back up separately)\n{}\n",
                    hex::encode(k)
                ),
            )?;
            tracing::warn!(path = %path.display(), "generated a new data key; back it up separately from the database");
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("reading the data key {}: {e}", path.display()))?;
        Self::from_hex_keys(text.lines())
    }

    /// The keys that sign the audit record's stream heads and checkpoints: one per data key,
    /// derived from it (never stored), with the data key's id; the current key signs.
    pub fn audit_keys(&self) -> yingji_store::AuditKeys {
        yingji_store::AuditKeys::new(
            self.keys
                .iter()
                .map(|(id, k)| {
                    let mut h = Sha256::new();
                    h.update(b"yingji-audit-signing-key\0");
                    h.update(k);
                    (id.clone(), h.finalize().into())
                })
                .collect(),
        )
    }

    /// The id of the key a sealed value was sealed with (None: not a sealed value).
    pub fn key_id_of(sealed: &str) -> Option<&str> {
        sealed.strip_prefix(PREFIX)?.split(':').next()
    }

    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(|(id, _)| id.clone()).collect()
    }

    pub fn current_key_id(&self) -> &str {
        &self.keys.last().expect("a key").0
    }

    /// Seals `plain` for the place named by `aad`.
    pub fn seal(&self, plain: &str, aad: &str) -> String {
        let (id, key) = self.keys.last().expect("a key");
        format!("{PREFIX}{id}:{}", aead_seal(key, plain, aad))
    }

    /// Opens a sealed value sealed for the place named by `aad`.
    pub fn open(&self, sealed: &str, aad: &str) -> Result<String, SealError> {
        let rest = sealed.strip_prefix(PREFIX).ok_or(SealError::NotSealed)?;
        let (id, body) = rest.split_once(':').ok_or(SealError::Damaged)?;
        let (_, key) = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .ok_or_else(|| SealError::UnknownKey(id.to_string()))?;
        aead_open(key, body, aad)
    }

    /// Whether a stored value was sealed with a key other than the current one.
    pub fn needs_rekey(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix(PREFIX)
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(id, _)| id != self.current_key_id())
    }
}

/// ChaCha20-Poly1305 of `plain` bound to `aad`: hex of a random nonce and the ciphertext.
pub(crate) fn aead_seal(key: &Key, plain: &str, aad: &str) -> String {
    let cipher = ChaCha20Poly1305::new(key);
    let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ct = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plain.as_bytes(),
                aad: aad.as_bytes(),
            },
        )
        .expect("sealing cannot fail for in-memory input");
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ct);
    hex::encode(out)
}

/// Opens what [`aead_seal`] made.
pub(crate) fn aead_open(key: &Key, body: &str, aad: &str) -> Result<String, SealError> {
    let bytes = hex::decode(body).map_err(|_| SealError::Damaged)?;
    if bytes.len() < 12 + 16 {
        return Err(SealError::Damaged);
    }
    let (nonce, ct) = bytes.split_at(12);
    let plain = ChaCha20Poly1305::new(key)
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: ct,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| SealError::Damaged)?;
    String::from_utf8(plain).map_err(|_| SealError::Damaged)
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| anyhow::anyhow!("creating the data key {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(())
}

/// A phone number for display: the first three and last four digits, the rest hidden.
pub fn mask_phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

/// An e-mail address for display: the first character of the local part and the domain
/// (`w***@example.org`).
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

/// An ID number for display: the first four and last four characters (`3301**********1234`).
pub fn mask_id_number(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// An address for display: at most its first six characters (and never more than half of it),
/// then `****`.
pub fn mask_address(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let keep = (chars.len() / 2).min(6);
    let head: String = chars[..keep].iter().collect();
    format!("{head}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_rotates() {
        let old = Sealer::from_hex_keys([&"11".repeat(32) as &str]).unwrap();
        let s = old.seal("13900001234", "people.phone:a");
        assert!(s.starts_with(PREFIX) && !s.contains("13900001234"));
        assert_eq!(old.open(&s, "people.phone:a").unwrap(), "13900001234");
        assert_eq!(old.open(&s, "people.phone:b"), Err(SealError::Damaged));
        let ring = Sealer::from_hex_keys([&"11".repeat(32) as &str, &"22".repeat(32)]).unwrap();
        assert_eq!(ring.open(&s, "people.phone:a").unwrap(), "13900001234");
        assert!(ring.needs_rekey(&s));
        let newer = ring.seal("x", "p");
        assert!(!ring.needs_rekey(&newer));
        assert!(matches!(
            old.open(&newer, "p"),
            Err(SealError::UnknownKey(_))
        ));
        let mut bad = s.clone();
        bad.pop();
        bad.push(if s.ends_with('0') { '1' } else { '0' });
        assert_eq!(old.open(&bad, "people.phone:a"), Err(SealError::Damaged));
        assert_eq!(mask_phone("13900001234"), "139****1234");
        assert_eq!(mask_id_number("330100199001011234"), "3301**********1234");
        assert_eq!(
            mask_address("临溪市青石镇枫林村三组12号"),
            "临溪市青石镇****"
        );
        assert_eq!(mask_address("某地"), "某****");
    }
}
