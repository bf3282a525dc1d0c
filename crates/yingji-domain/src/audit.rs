//! The audit hash chain. Every event of a stream (an incident, a person, a plan…) carries the
//! hash of the event before it in the same stream; changing, removing or reordering a stored event
//! breaks the chain, and `yingji audit verify` finds the first broken link.
//!
//! Chains are per stream rather than one global chain so that writes to different incidents do
//! not serialise on one lock (PostgreSQL with several instances); the stream's head hash is also
//! kept on its projection row, so that deleting the newest event is detected too.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The hash before a stream's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What is hashed: every stored field of an event except its own hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EventEnvelope {
    pub id: Uuid,
    pub stream_id: Uuid,
    pub stream_seq: i64,
    /// `incident`, `jurisdiction`, `person`, `plan`…
    pub stream_kind: String,
    pub jurisdiction_id: Uuid,
    pub at: String,
    pub actor_id: Uuid,
    pub actor_name: String,
    /// The event type, e.g. `task_acknowledged`.
    pub kind: String,
    /// Why, when the actor gave a reason.
    pub reason: Option<String>,
    /// The event as JSON text, exactly as stored.
    pub payload: String,
    pub prev_hash: String,
}

impl EventEnvelope {
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        // Length-prefixed fields: no two different envelopes hash the same text.
        for part in [
            self.id.to_string().as_str(),
            self.stream_id.to_string().as_str(),
            self.stream_seq.to_string().as_str(),
            self.stream_kind.as_str(),
            self.jurisdiction_id.to_string().as_str(),
            self.at.as_str(),
            self.actor_id.to_string().as_str(),
            self.actor_name.as_str(),
            self.kind.as_str(),
            self.reason.as_deref().unwrap_or("\u{0}"),
            self.payload.as_str(),
            self.prev_hash.as_str(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        hex(&h.finalize())
    }
}

fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

/// A stored event with its hash, as read back for verification.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub envelope: EventEnvelope,
    pub hash: String,
}

/// The first problem found in one stream's chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// The row's stored hash does not match its contents: the row was edited.
    HashMismatch { event_id: Uuid, stream_seq: i64 },
    /// The row does not point at the hash of the event before it: an event was removed or
    /// reordered.
    LinkMismatch { event_id: Uuid, stream_seq: i64 },
    /// Sequence numbers skip or repeat.
    SeqGap { stream_seq: i64, expected: i64 },
    /// The newest event is not the one the stream's head records: the newest was removed.
    HeadMismatch {
        head_hash: String,
        last_hash: String,
    },
    /// The stream's head carries no signature (written without the operator's key, or the
    /// signature was removed).
    Unsigned,
    /// The head does not match its signature: the chain was recomputed after an edit, or the
    /// head was moved back after the newest events were deleted.
    BadSignature,
    /// The head was signed with a key the operator's key ring does not hold.
    UnknownKey { key_id: String },
    /// A signed checkpoint recorded the stream, and it is gone (deleted, or moved out of this
    /// jurisdiction).
    Deleted { version: i64 },
    /// A signed checkpoint recorded the stream at a later version than it has now: its newest
    /// events were deleted.
    Truncated { checkpointed: i64, version: i64 },
    /// The event at a version a signed checkpoint recorded is not the one recorded: the chain was
    /// rewritten and its hashes recomputed.
    Rewritten { stream_seq: i64 },
}

impl Broken {
    /// A stable name for the kind of problem (the console's catalogue says it in words).
    pub fn code(&self) -> &'static str {
        match self {
            Broken::HashMismatch { .. } => "altered",
            Broken::LinkMismatch { .. } => "unlinked",
            Broken::SeqGap { .. } => "seq_gap",
            Broken::HeadMismatch { .. } => "head_missing",
            Broken::Unsigned => "unsigned",
            Broken::BadSignature => "bad_signature",
            Broken::UnknownKey { .. } => "unknown_key",
            Broken::Deleted { .. } => "deleted",
            Broken::Truncated { .. } => "truncated",
            Broken::Rewritten { .. } => "rewritten",
        }
    }
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::HashMismatch {
                event_id,
                stream_seq,
            } => write!(
                f,
                "event {event_id} (#{stream_seq}) was altered: its contents no longer match its hash"
            ),
            Broken::LinkMismatch {
                event_id,
                stream_seq,
            } => write!(
                f,
                "event {event_id} (#{stream_seq}) does not follow the event before it: an event was removed or reordered"
            ),
            Broken::SeqGap {
                stream_seq,
                expected,
            } => {
                write!(
                    f,
                    "event #{stream_seq} found where #{expected} was expected"
                )
            }
            Broken::HeadMismatch { .. } => {
                f.write_str("the stream's newest event is missing: its head hash does not match")
            }
            Broken::Unsigned => f.write_str("the stream's head carries no signature"),
            Broken::BadSignature => f.write_str(
                "the stream's head does not match its signature: the chain was recomputed or the head moved",
            ),
            Broken::UnknownKey { key_id } => write!(
                f,
                "the stream's head is signed with key {key_id}, which the key ring does not hold"
            ),
            Broken::Deleted { version } => write!(
                f,
                "the stream is missing: a signed checkpoint recorded it at version {version}"
            ),
            Broken::Truncated {
                checkpointed,
                version,
            } => write!(
                f,
                "the stream ends at version {version} but a signed checkpoint recorded version {checkpointed}: its newest events were deleted"
            ),
            Broken::Rewritten { stream_seq } => write!(
                f,
                "event #{stream_seq} is not the one a signed checkpoint recorded: the chain was rewritten"
            ),
        }
    }
}

/// Verifies one stream's events, given in `stream_seq` order, against the head hash recorded on
/// the stream (if any).
pub fn verify_stream(events: &[StoredEvent], head_hash: Option<&str>) -> Result<(), Broken> {
    let mut prev = GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        let expected = i as i64 + 1;
        if e.envelope.stream_seq != expected {
            return Err(Broken::SeqGap {
                stream_seq: e.envelope.stream_seq,
                expected,
            });
        }
        if e.envelope.hash() != e.hash {
            return Err(Broken::HashMismatch {
                event_id: e.envelope.id,
                stream_seq: e.envelope.stream_seq,
            });
        }
        if e.envelope.prev_hash != prev {
            return Err(Broken::LinkMismatch {
                event_id: e.envelope.id,
                stream_seq: e.envelope.stream_seq,
            });
        }
        prev = e.hash.clone();
    }
    if let Some(h) = head_hash
        && h != prev
    {
        return Err(Broken::HeadMismatch {
            head_hash: h.to_string(),
            last_hash: prev,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<StoredEvent> {
        let stream = Uuid::now_v7();
        let mut prev = GENESIS.to_string();
        (0..n)
            .map(|i| {
                let env = EventEnvelope {
                    id: Uuid::now_v7(),
                    stream_id: stream,
                    stream_seq: i as i64 + 1,
                    stream_kind: "incident".into(),
                    jurisdiction_id: Uuid::nil(),
                    at: "2026-03-02T02:00:00Z".into(),
                    actor_id: Uuid::nil(),
                    actor_name: "值班员甲".into(),
                    kind: "x".into(),
                    reason: None,
                    payload: format!("{{\"n\":{i}}}"),
                    prev_hash: prev.clone(),
                };
                let hash = env.hash();
                prev = hash.clone();
                StoredEvent {
                    envelope: env,
                    hash,
                }
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(4);
        let head = c.last().unwrap().hash.clone();
        assert_eq!(verify_stream(&c, Some(&head)), Ok(()));
    }

    #[test]
    fn an_edited_payload_is_found() {
        let mut c = chain(4);
        c[2].envelope.payload = "{\"n\":99}".into();
        assert!(matches!(
            verify_stream(&c, None),
            Err(Broken::HashMismatch { stream_seq: 3, .. })
        ));
    }

    #[test]
    fn a_removed_event_is_found() {
        let mut c = chain(4);
        let head = c.last().unwrap().hash.clone();
        c.remove(1);
        assert!(verify_stream(&c, Some(&head)).is_err());
        let mut d = chain(3);
        let head = d.last().unwrap().hash.clone();
        d.pop();
        assert!(matches!(
            verify_stream(&d, Some(&head)),
            Err(Broken::HeadMismatch { .. })
        ));
    }
}
