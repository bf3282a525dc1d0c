//! Secrets that belong to the deployment, not to one process: the console's CSRF key and the
//! key that signs acknowledgement links. Several `serve` processes on one database (and one
//! process across restarts) must accept what another issued, so each secret is made once, by
//! whichever process starts first, and kept in the database sealed with the data key
//! (`deployment_secrets`, migration 0022). A configured secret (`secret` in the notification
//! configuration, `YINGJI_SECRET`) still wins over the stored one.

use sha2::{Digest, Sha256};
use yingji_store::Store;

use crate::error::AppError;
use crate::sealer::Sealer;

/// The console's CSRF key.
pub const CONSOLE: &str = "console";
/// The key that signs acknowledgement links.
pub const ACK_LINKS: &str = "ack_links";

/// The deployment's secret `name`: the one stored, or a new one (256 bits from the operating
/// system's generator) stored now. When two processes make one at once, both answer the one
/// that was stored first. Runs before the application exists (no event: a secret is not a
/// record anyone acts on).
pub async fn deployment_secret(
    store: &Store,
    sealer: &Sealer,
    name: &str,
    now: jiff::Timestamp,
) -> Result<String, AppError> {
    let aad = format!("deployment_secrets/{name}");
    let fresh = sealer.seal(&crate::accounts::random_token(), &aad);
    let sealed = store
        .keep_deployment_secret(name, fresh, &yingji_store::fmt_ts(now))
        .await?;
    sealer.open(&sealed, &aad).map_err(|e| {
        AppError::internal(format!(
            "the deployment secret {name} cannot be opened with this data key: {e}"
        ))
    })
}

/// Re-seals every deployment secret sealed with an older data key with the current one (the
/// secret itself is unchanged, so forms and links issued before stay valid). Returns how many
/// changed. Part of `yingji rekey`; safe while serving (a value changed meanwhile is kept).
pub async fn rekey_deployment_secrets(store: &Store, sealer: &Sealer) -> Result<usize, AppError> {
    let mut n = 0;
    for (name, stored) in store.deployment_secrets().await? {
        if !sealer.needs_rekey(&stored) {
            continue;
        }
        let aad = format!("deployment_secrets/{name}");
        let plain = sealer.open(&stored, &aad).map_err(|e| {
            AppError::internal(format!(
                "the deployment secret {name} cannot be opened with the configured keys: {e}"
            ))
        })?;
        let sealed = sealer.seal(&plain, &aad);
        store
            .reseal_deployment_secret(&name, sealed, &stored)
            .await?;
        n += 1;
    }
    Ok(n)
}

/// A 32-byte key derived from a secret text.
pub fn key_of(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}
