//! Petition cases: the case row, petitioners (sealed), counters and statistics.

use super::Statements;
use crate::rows::Stmt;

#[derive(Debug, Clone)]
pub enum CaseWrite {}

impl Statements for CaseWrite {
    fn statements(self, _out: &mut Vec<Stmt>) {
        match self {}
    }
}
