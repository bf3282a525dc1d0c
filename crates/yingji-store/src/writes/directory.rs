//! The directory beyond people and holders: channels, duty rosters, phones.

use uuid::Uuid;

use super::Statements;
use crate::args;
use crate::rows::Stmt;

#[derive(Debug, Clone)]
pub enum DirectoryWrite {
    /// A person's phone sealed again (key rotation), only if it is still the value read.
    PersonPhone {
        person_id: Uuid,
        phone: String,
        was: String,
    },
    /// A person's SMS channel number sealed again (key rotation), only if it is still the
    /// value read.
    SmsAddress {
        person_id: Uuid,
        address: String,
        was: String,
    },
}

impl Statements for DirectoryWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        out.push(match self {
            DirectoryWrite::PersonPhone {
                person_id,
                phone,
                was,
            } => Stmt::new(
                "UPDATE people SET phone = ? WHERE id = ? AND phone = ?",
                args![phone, person_id, was],
            ),
            DirectoryWrite::SmsAddress {
                person_id,
                address,
                was,
            } => Stmt::new(
                "UPDATE person_channels SET address = ? WHERE person_id = ? AND channel = 'sms' AND address = ?",
                args![address, person_id, was],
            ),
        });
    }
}
