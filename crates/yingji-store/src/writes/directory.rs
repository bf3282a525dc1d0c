//! The directory beyond people and holders: channels, duty rosters, phones.

use super::Statements;
use crate::rows::Stmt;

#[derive(Debug, Clone)]
pub enum DirectoryWrite {}

impl Statements for DirectoryWrite {
    fn statements(self, _out: &mut Vec<Stmt>) {
        match self {}
    }
}
