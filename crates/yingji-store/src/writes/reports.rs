//! Scheduled reports: submissions and reminders.

use super::Statements;
use crate::rows::Stmt;

#[derive(Debug, Clone)]
pub enum ReportWrite {}

impl Statements for ReportWrite {
    fn statements(self, _out: &mut Vec<Stmt>) {
        match self {}
    }
}
