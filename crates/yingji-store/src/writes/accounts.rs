//! Accounts, sessions, API tokens, sign-in failures and role grants.

use super::Statements;
use crate::rows::Stmt;

#[derive(Debug, Clone)]
pub enum AccountWrite {}

impl Statements for AccountWrite {
    fn statements(self, _out: &mut Vec<Stmt>) {
        match self {}
    }
}
