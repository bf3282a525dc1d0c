//! The notification worker's deliveries.

use super::Statements;
use crate::rows::Stmt;

#[derive(Debug, Clone)]
pub enum DeliveryWrite {}

impl Statements for DeliveryWrite {
    fn statements(self, _out: &mut Vec<Stmt>) {
        match self {}
    }
}
