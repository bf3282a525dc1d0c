//! Signed acknowledgement links: `{base_url}/ack/{token}`, where the token carries the call and
//! the person and an HMAC-SHA256 tag. Opening the link shows a page; only its POST acknowledges
//! (a link preview that fetches the page changes nothing).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

const TAG: usize = 16;

#[derive(Clone)]
pub struct AckKeys {
    key: Vec<u8>,
    base_url: String,
}

impl AckKeys {
    pub fn new(secret: &str, base_url: &str) -> AckKeys {
        AckKeys {
            key: secret.as_bytes().to_vec(),
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn secret(&self) -> &[u8] {
        &self.key
    }

    fn tag(&self, data: &[u8]) -> Vec<u8> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length");
        m.update(b"yingji-ack-v1");
        m.update(data);
        m.finalize().into_bytes()[..TAG].to_vec()
    }

    pub fn token(&self, call: Uuid, person: Uuid) -> String {
        let mut data = Vec::with_capacity(32 + TAG);
        data.extend_from_slice(call.as_bytes());
        data.extend_from_slice(person.as_bytes());
        let tag = self.tag(&data);
        data.extend_from_slice(&tag);
        URL_SAFE_NO_PAD.encode(data)
    }

    pub fn url(&self, call: Uuid, person: Uuid) -> String {
        format!("{}/ack/{}", self.base_url, self.token(call, person))
    }

    /// The call and person of a genuine token.
    pub fn verify(&self, token: &str) -> Option<(Uuid, Uuid)> {
        let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if raw.len() != 32 + TAG {
            return None;
        }
        let (data, tag) = raw.split_at(32);
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).ok()?;
        m.update(b"yingji-ack-v1");
        m.update(data);
        m.verify_truncated_left(tag).ok()?;
        Some((
            Uuid::from_slice(&data[..16]).ok()?,
            Uuid::from_slice(&data[16..]).ok()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_forgeries_do_not() {
        let k = AckKeys::new("s3cret", "http://x/");
        let (c, p) = (Uuid::now_v7(), Uuid::now_v7());
        let t = k.token(c, p);
        assert_eq!(k.verify(&t), Some((c, p)));
        assert!(k.url(c, p).starts_with("http://x/ack/"));
        let other = AckKeys::new("other", "http://x");
        assert_eq!(other.verify(&t), None);
        let mut bad = t.into_bytes();
        bad[3] = if bad[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(k.verify(&String::from_utf8(bad).unwrap()), None);
        assert_eq!(k.verify("short"), None);
    }
}
