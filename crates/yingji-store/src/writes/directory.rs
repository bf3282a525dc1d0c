//! The directory beyond people and holders: channels, duty rosters, phones.

use uuid::Uuid;

use super::Statements;
use crate::args;
use crate::rows::{Stmt, Val};

#[derive(Debug, Clone)]
pub enum DirectoryWrite {
    /// A person's phone sealed again (key rotation), only if it is still the value read.
    PersonPhone {
        person_id: Uuid,
        phone: String,
        was: String,
    },
    /// A person's channel address sealed again (key rotation, or sealing one stored before
    /// every address was sealed), only if it is still the value read.
    ChannelAddress {
        person_id: Uuid,
        channel: String,
        address: String,
        was: String,
    },
    /// A person's directory e-mail sealed (again), only if it is still the value read.
    PersonEmail {
        person_id: Uuid,
        email: String,
        was: String,
    },
    // --- Reaching people: a person's channels and the duty rosters (notifications). ---
    /// A person's channels, replacing every channel they had: (channel, address as stored —
    /// sealed).
    Channels {
        person_id: Uuid,
        channels: Vec<(String, String)>,
    },
    /// A post's duty roster in a jurisdiction (inserted or replaced).
    Roster {
        jurisdiction_id: Uuid,
        post_id: String,
        body: String,
        updated_at: String,
    },
    // --- End of the notification variants. ---
    /// A deployment-wide secret (sealed), unless one of that name is there already (another
    /// process made it first: the write keeps theirs).
    Secret {
        name: String,
        sealed: String,
        created_at: String,
    },
    /// A deployment-wide secret sealed again (key rotation), only if it is still the value read.
    SecretResealed {
        name: String,
        sealed: String,
        was: String,
    },
}

impl Statements for DirectoryWrite {
    fn statements(self, out: &mut Vec<Stmt>) {
        match self {
            DirectoryWrite::PersonPhone {
                person_id,
                phone,
                was,
            } => out.push(Stmt::new(
                "UPDATE people SET phone = ? WHERE id = ? AND phone = ?",
                args![phone, person_id, was],
            )),
            DirectoryWrite::ChannelAddress {
                person_id,
                channel,
                address,
                was,
            } => out.push(Stmt::new(
                "UPDATE person_channels SET address = ? WHERE person_id = ? AND channel = ? AND address = ?",
                args![address, person_id, channel, was],
            )),
            DirectoryWrite::PersonEmail {
                person_id,
                email,
                was,
            } => out.push(Stmt::new(
                "UPDATE people SET email = ? WHERE id = ? AND email = ?",
                args![email, person_id, was],
            )),
            DirectoryWrite::Channels {
                person_id,
                channels,
            } => {
                out.push(Stmt::new(
                    "DELETE FROM person_channels WHERE person_id = ?",
                    args![person_id],
                ));
                for (channel, address) in channels {
                    out.push(Stmt::new(
                        "INSERT INTO person_channels (person_id, channel, address) VALUES (?, ?, ?) ON CONFLICT (person_id, channel) DO UPDATE SET address = excluded.address",
                        args![person_id, channel, address],
                    ));
                }
            }
            DirectoryWrite::Roster {
                jurisdiction_id,
                post_id,
                body,
                updated_at,
            } => out.push(Stmt::new(
                "INSERT INTO rosters (jurisdiction_id, post_id, body, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (jurisdiction_id, post_id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
                args![jurisdiction_id, post_id, Val::json(body), Val::ts(updated_at)],
            )),
            DirectoryWrite::Secret {
                name,
                sealed,
                created_at,
            } => out.push(Stmt::new(
                "INSERT INTO deployment_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                args![name, sealed, created_at],
            )),
            DirectoryWrite::SecretResealed { name, sealed, was } => out.push(Stmt::new(
                "UPDATE deployment_secrets SET value = ? WHERE name = ? AND value = ?",
                args![sealed, name, was],
            )),
        }
    }
}
