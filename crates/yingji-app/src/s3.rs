//! A small client of an S3-compatible object store (AWS S3, MinIO, Ceph RGW, the object stores
//! of Chinese clouds): `PUT` and `GET` of one object, path-style addressing
//! (`<endpoint>/<bucket>/<key>`), signed with AWS Signature Version 4 (the payload's SHA-256
//! signed too). Where a PostgreSQL deployment keeps attachments when so configured
//! (`serve --attachment-store s3`). Signatures use the machine's real time (a store refuses a
//! request more than a few minutes off), never the application clock.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Where and how to reach the store.
#[derive(Clone)]
pub struct S3Config {
    /// `http(s)://host[:port]`, nothing after it.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    /// Put before every key (`yingji/attachments/`); may be empty.
    pub prefix: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// A client of one bucket.
#[derive(Clone, Debug)]
pub struct S3 {
    cfg: S3Config,
    base: reqwest::Url,
    host: String,
    client: reqwest::Client,
}

impl PartialEq for S3 {
    fn eq(&self, other: &Self) -> bool {
        self.base == other.base && self.cfg.bucket == other.cfg.bucket
    }
}

impl Eq for S3 {}

/// A request the store refused or could not be sent.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct S3Error(pub String);

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

impl S3 {
    /// Checks the configuration (an http(s) endpoint with nothing after the host, a valid
    /// bucket name, keys given) and builds the client.
    pub fn new(cfg: S3Config) -> Result<S3, String> {
        let base = reqwest::Url::parse(&cfg.endpoint)
            .map_err(|e| format!("--s3-endpoint `{}`: {e}", cfg.endpoint))?;
        if !matches!(base.scheme(), "http" | "https")
            || base.host_str().is_none()
            || base.path() != "/"
            || base.query().is_some()
            || !base.username().is_empty()
        {
            return Err(format!(
                "--s3-endpoint `{}` must be http(s)://host[:port] with nothing after it",
                cfg.endpoint
            ));
        }
        let b = &cfg.bucket;
        if b.len() < 3
            || b.len() > 63
            || !b
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        {
            return Err(format!(
                "--s3-bucket `{b}` is not a bucket name (3–63 lower-case letters, digits, dots and hyphens)"
            ));
        }
        if cfg.access_key.is_empty() || cfg.secret_key.is_empty() {
            return Err(
                "the object store needs YINGJI_S3_ACCESS_KEY and YINGJI_S3_SECRET_KEY".into(),
            );
        }
        if !cfg
            .prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            return Err(format!(
                "--s3-prefix `{}` may hold only letters, digits and - _ . /",
                cfg.prefix
            ));
        }
        let host = match base.port() {
            Some(p) => format!("{}:{p}", base.host_str().unwrap_or_default()),
            None => base.host_str().unwrap_or_default().to_string(),
        };
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(S3 {
            cfg,
            base,
            host,
            client,
        })
    }

    fn path(&self, name: &str) -> String {
        format!("/{}/{}{name}", self.cfg.bucket, self.cfg.prefix)
    }

    /// The headers that sign a request of `method` for `path` with this payload hash.
    fn signed(&self, method: &str, path: &str, payload_hash: &str) -> Vec<(&'static str, String)> {
        let now = jiff::Timestamp::now();
        let amz_date = now.strftime("%Y%m%dT%H%M%SZ").to_string();
        let day = now.strftime("%Y%m%d").to_string();
        let canonical = format!(
            "{method}\n{path}\n\nhost:{}\nx-amz-content-sha256:{payload_hash}\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\n{payload_hash}",
            self.host
        );
        let scope = format!("{day}/{}/s3/aws4_request", self.cfg.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let k = hmac(format!("AWS4{}", self.cfg.secret_key).as_bytes(), &day);
        let k = hmac(&k, &self.cfg.region);
        let k = hmac(&k, "s3");
        let k = hmac(&k, "aws4_request");
        let signature = hex::encode(hmac(&k, &to_sign));
        vec![
            ("x-amz-date", amz_date),
            ("x-amz-content-sha256", payload_hash.to_string()),
            (
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={signature}",
                    self.cfg.access_key
                ),
            ),
        ]
    }

    fn url(&self, path: &str) -> Result<reqwest::Url, S3Error> {
        self.base
            .join(path)
            .map_err(|e| S3Error(format!("object path {path}: {e}")))
    }

    /// Stores an object; answers once the store has acknowledged it.
    pub async fn put(&self, name: &str, body: Vec<u8>) -> Result<(), S3Error> {
        let path = self.path(name);
        let hash = hex::encode(Sha256::digest(&body));
        let mut req = self.client.put(self.url(&path)?).body(body);
        for (k, v) in self.signed("PUT", &path, &hash) {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| S3Error(format!("the object store at {}: {e}", self.cfg.endpoint)))?;
        if resp.status().is_success() {
            return Ok(());
        }
        Err(refusal(resp).await)
    }

    /// An object's bytes (None: the store has no such object).
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, S3Error> {
        let path = self.path(name);
        let hash = hex::encode(Sha256::digest(b""));
        let mut req = self.client.get(self.url(&path)?);
        for (k, v) in self.signed("GET", &path, &hash) {
            req = req.header(k, v);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| S3Error(format!("the object store at {}: {e}", self.cfg.endpoint)))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(refusal(resp).await);
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| S3Error(format!("reading from the object store: {e}")))?;
        Ok(Some(bytes.to_vec()))
    }
}

/// The store's refusal: its status and error code (`SignatureDoesNotMatch`, `NoSuchBucket`…).
async fn refusal(resp: reqwest::Response) -> S3Error {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let code = text
        .split_once("<Code>")
        .and_then(|(_, r)| r.split_once("</Code>"))
        .map(|(c, _)| c.to_string())
        .unwrap_or_default();
    S3Error(format!("the object store answered {status} {code}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(endpoint: &str, bucket: &str) -> S3Config {
        S3Config {
            endpoint: endpoint.into(),
            bucket: bucket.into(),
            region: "us-east-1".into(),
            access_key: "AK".into(),
            secret_key: "SK".into(),
            prefix: String::new(),
        }
    }

    #[test]
    fn a_bad_endpoint_or_bucket_is_refused_with_what_is_wrong() {
        assert!(S3::new(cfg("http://127.0.0.1:9000", "yingji-files")).is_ok());
        for bad in [
            "ftp://host",
            "http://host/path",
            "http://u:p@host",
            "not a url",
        ] {
            let e = S3::new(cfg(bad, "yingji-files")).unwrap_err();
            assert!(e.contains("--s3-endpoint"), "{bad}: {e}");
        }
        let e = S3::new(cfg("http://h", "Bad_Bucket")).unwrap_err();
        assert!(e.contains("--s3-bucket"), "{e}");
    }

    /// The signing key and signature of AWS's published Signature Version 4 example (the
    /// "get-vanilla" case of the test suite: GET / on example.amazonaws.com, service "service").
    #[test]
    fn the_signature_matches_the_published_example() {
        let canonical = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let k = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830");
        let k = hmac(&k, "us-east-1");
        let k = hmac(&k, "service");
        let k = hmac(&k, "aws4_request");
        assert_eq!(
            hex::encode(hmac(&k, &to_sign)),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }
}
