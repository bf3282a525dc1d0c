//! Sign-in settings and the configurable roles (`serve --trust FILE`).

use serde::Deserialize;
use yingji_domain::policy::{Permission, Roles};

/// Sign-in and role configuration (`serve --trust FILE`, JSON; every key optional).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrustConfig {
    /// Wrong passwords within `failure_window_seconds` that lock a login…
    pub max_failures: i64,
    pub failure_window_seconds: i64,
    /// …for this long after the last of them (even the right password is refused).
    pub lockout_seconds: i64,
    pub session_hours: i64,
    /// Mark the session cookie `Secure` (serve over HTTPS).
    pub secure_cookie: bool,
    pub min_password_length: usize,
    /// How long petitioners' contact, address and ID number are kept after a case is no longer
    /// open (replied or closed), in days; `yingji purge` erases them after that.
    pub retention_days: i64,
    /// Role id → permissions.
    pub roles: Roles,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            max_failures: 5,
            failure_window_seconds: 60,
            lockout_seconds: 15 * 60,
            session_hours: 12,
            secure_cookie: false,
            min_password_length: 10,
            retention_days: 3 * 365,
            roles: yingji_domain::policy::default_roles(),
        }
    }
}

impl TrustConfig {
    pub fn from_json(text: &str) -> anyhow::Result<TrustConfig> {
        let cfg: TrustConfig = serde_json::from_str(text)?;
        if cfg.max_failures < 1 || cfg.failure_window_seconds < 1 || cfg.session_hours < 1 {
            anyhow::bail!(
                "max_failures, failure_window_seconds and session_hours must be positive"
            );
        }
        if !(0..=36_500).contains(&cfg.retention_days) {
            anyhow::bail!("retention_days must be from 0 to 36500");
        }
        Ok(cfg)
    }

    pub fn role_allows(&self, role: &str, p: Permission) -> bool {
        self.roles.get(role).is_some_and(|ps| ps.contains(&p))
    }
}
