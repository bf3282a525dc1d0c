//! Dispute screening: rounds, unit submissions and disputes.

use super::Statements;
use crate::rows::Stmt;

#[derive(Debug, Clone)]
pub enum ScreeningWrite {}

impl Statements for ScreeningWrite {
    fn statements(self, _out: &mut Vec<Stmt>) {
        match self {}
    }
}
