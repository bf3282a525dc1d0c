//! Accounts, sessions, API tokens, sign-in failures and role grants.

use uuid::Uuid;

use super::Statements;
use crate::Conflict;
use crate::args;
use crate::rows::{Stmt, Val};

#[derive(Debug, Clone)]
pub enum AccountWrite {
    /// A wrong password for a login (counted for the lockout).
    SignInFailure { id: Uuid, login: String, at_ms: i64 },
    /// A login's failures are forgotten after it signs in, and everyone's after a day.
    ClearSignInFailures { login: String, older_than_ms: i64 },
    /// A new password session (its token and CSRF token stored hashed).
    Session {
        token_hash: String,
        person_id: Uuid,
        csrf_hash: String,
        created_at: String,
        expires_ms: i64,
    },
    /// One session ends (sign-out).
    RevokeSession { token_hash: String },
    /// Every session of a person ends.
    RevokeSessions { person_id: Uuid },
    /// Every session of a person but one ends (a password change keeps the one it came from).
    RevokeOtherSessions {
        person_id: Uuid,
        keep_token_hash: String,
    },
    /// A person's sign-in: login and password hash, inserted or replaced (a login another
    /// person has is `Conflict::LoginTaken`).
    Account {
        person_id: Uuid,
        login: String,
        password_hash: String,
        at: String,
    },
    /// A new password for an existing account.
    Password {
        person_id: Uuid,
        password_hash: String,
        at: String,
    },
    /// Disables or enables a person (an account row without a password is made when the
    /// person has none, its login the person's id).
    Disabled {
        person_id: Uuid,
        disabled: bool,
        at: String,
    },
    /// A new API token (stored hashed).
    ApiToken {
        id: Uuid,
        person_id: Uuid,
        name: String,
        token_hash: String,
        created_at: String,
    },
    /// A person's API token stops working.
    RevokeApiToken { id: Uuid, person_id: Uuid },
    /// A role in a jurisdiction's subtree (granting it twice changes nothing).
    Grant {
        person_id: Uuid,
        role: String,
        jurisdiction_id: Uuid,
        jurisdiction_path: String,
        granted_at: String,
    },
    /// A role taken back.
    RevokeGrant {
        person_id: Uuid,
        role: String,
        jurisdiction_id: Uuid,
    },
}

impl Statements for AccountWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            AccountWrite::SignInFailure { id, login, at_ms } => Stmt::new(
                "INSERT INTO sign_in_failures (id, login, at_ms) VALUES (?, ?, ?)",
                args![id, login, at_ms],
            ),
            AccountWrite::ClearSignInFailures {
                login,
                older_than_ms,
            } => Stmt::new(
                "DELETE FROM sign_in_failures WHERE login = ? OR at_ms < ?",
                args![login, older_than_ms],
            ),
            AccountWrite::Session {
                token_hash,
                person_id,
                csrf_hash,
                created_at,
                expires_ms,
            } => Stmt::new(
                "INSERT INTO sessions (token_hash, person_id, csrf_hash, created_at, expires_ms, revoked) VALUES (?, ?, ?, ?, ?, FALSE)",
                args![token_hash, person_id, csrf_hash, Val::ts(created_at), expires_ms],
            ),
            AccountWrite::RevokeSession { token_hash } => Stmt::new(
                "UPDATE sessions SET revoked = TRUE WHERE token_hash = ?",
                args![token_hash],
            ),
            AccountWrite::RevokeSessions { person_id } => Stmt::new(
                "UPDATE sessions SET revoked = TRUE WHERE person_id = ?",
                args![person_id],
            ),
            AccountWrite::RevokeOtherSessions {
                person_id,
                keep_token_hash,
            } => Stmt::new(
                "UPDATE sessions SET revoked = TRUE WHERE person_id = ? AND token_hash <> ?",
                args![person_id, keep_token_hash],
            ),
            AccountWrite::Account {
                person_id,
                login,
                password_hash,
                at,
            } => Stmt::new(
                "INSERT INTO accounts (person_id, login, password_hash, disabled, password_changed_at, created_at) VALUES (?, ?, ?, FALSE, ?, ?) \
                 ON CONFLICT (person_id) DO UPDATE SET login = excluded.login, password_hash = excluded.password_hash, password_changed_at = excluded.password_changed_at",
                args![person_id, login, password_hash, Val::ts(&at), Val::ts(&at)],
            )
            .on_unique(Conflict::LoginTaken),
            AccountWrite::Password {
                person_id,
                password_hash,
                at,
            } => Stmt::new(
                "UPDATE accounts SET password_hash = ?, password_changed_at = ? WHERE person_id = ?",
                args![password_hash, Val::ts(at), person_id],
            ),
            AccountWrite::Disabled {
                person_id,
                disabled,
                at,
            } => Stmt::new(
                "INSERT INTO accounts (person_id, login, password_hash, disabled, password_changed_at, created_at) VALUES (?, ?, NULL, ?, NULL, ?) \
                 ON CONFLICT (person_id) DO UPDATE SET disabled = excluded.disabled",
                args![person_id, person_id.to_string(), disabled, Val::ts(at)],
            ),
            AccountWrite::ApiToken {
                id,
                person_id,
                name,
                token_hash,
                created_at,
            } => Stmt::new(
                "INSERT INTO api_tokens (id, person_id, name, token_hash, created_at, revoked) VALUES (?, ?, ?, ?, ?, FALSE)",
                args![id, person_id, name, token_hash, Val::ts(created_at)],
            ),
            AccountWrite::RevokeApiToken { id, person_id } => Stmt::new(
                "UPDATE api_tokens SET revoked = TRUE WHERE id = ? AND person_id = ?",
                args![id, person_id],
            ),
            AccountWrite::Grant {
                person_id,
                role,
                jurisdiction_id,
                jurisdiction_path,
                granted_at,
            } => Stmt::new(
                "INSERT INTO role_grants (person_id, role, jurisdiction_id, jurisdiction_path, granted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                args![person_id, role, jurisdiction_id, jurisdiction_path, Val::ts(granted_at)],
            ),
            AccountWrite::RevokeGrant {
                person_id,
                role,
                jurisdiction_id,
            } => Stmt::new(
                "DELETE FROM role_grants WHERE person_id = ? AND role = ? AND jurisdiction_id = ?",
                args![person_id, role, jurisdiction_id],
            ),
        });
    }
}
