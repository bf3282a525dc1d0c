//! Where outbound requests may go. A person's own channel addresses (a webhook, a WeCom,
//! DingTalk or Feishu robot URL) are set by whoever signs in, so by default they may not reach
//! this machine or the networks around it: loopback, private (RFC 1918, fc00::/7), link-local
//! (169.254.0.0/16, fe80::/10, where cloud metadata services answer), unspecified, shared
//! (CGNAT, 100.64.0.0/10), broadcast, multicast, documentation and other reserved ranges, and
//! the IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms of those. The operator's
//! allow-list (`allow_destinations` in the notification configuration: networks in CIDR form
//! and host names) opens exceptions for their own gateways. The endpoints the operator
//! configures themselves (the SMS gateway, the SMTP server) are not checked.
//!
//! Three checks, each for what the others cannot see:
//! - when an address is saved, [`AllowList::check_url`]: an IP literal in a restricted range,
//!   and names of this machine (`localhost`, `*.localhost`) or of metadata services;
//! - before each send, the same check again (a destination stored before the rule, or before
//!   the allow-list changed; reqwest connects to an IP literal without asking a resolver);
//! - at connect time, [`GuardedResolver`]: every address a host name resolves to is checked,
//!   so a name that resolves (or re-binds) to a restricted address is refused.
//!
//! The client for these destinations follows no redirect and uses no proxy from the
//! environment (a proxy would resolve the name itself, outside these checks).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Host names refused without resolving them: cloud metadata services (their addresses are
/// link-local or shared, refused anyway; the names make the answer clear at once).
const METADATA_NAMES: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.tencentyun.com",
    "metadata.platformequinix.com",
    "instance-data",
    "instance-data.ec2.internal",
];

/// Why an address is restricted; `None` for an address on the public internet.
pub fn restricted(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(a) => restricted_v4(a),
        IpAddr::V6(a) => restricted_v6(a),
    }
}

fn restricted_v4(a: Ipv4Addr) -> Option<&'static str> {
    let o = a.octets();
    Some(match o {
        [169, 254, 169, 254] | [100, 100, 100, 200] | [169, 254, 170, 2] | [169, 254, 0, 23] => {
            "a cloud metadata address"
        }
        [0, ..] => "an unspecified address (0.0.0.0/8)",
        [127, ..] => "a loopback address",
        [10, ..] | [192, 168, ..] => "a private address",
        [172, b, ..] if (16..=31).contains(&b) => "a private address",
        [169, 254, ..] => "a link-local address",
        [100, b, ..] if (64..=127).contains(&b) => "a shared (CGNAT) address",
        [192, 0, 0, _] => "an IETF protocol address (192.0.0.0/24)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "a documentation address",
        [198, 18 | 19, ..] => "a benchmarking address",
        [255, 255, 255, 255] => "the broadcast address",
        [224..=239, ..] => "a multicast address",
        [240..=255, ..] => "a reserved address",
        _ => return None,
    })
}

fn restricted_v6(a: Ipv6Addr) -> Option<&'static str> {
    let s = a.segments();
    if a.is_unspecified() {
        return Some("an unspecified address");
    }
    if a.is_loopback() {
        return Some("a loopback address");
    }
    // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64) reach the IPv4 address.
    if let Some(v4) = a.to_ipv4_mapped() {
        return restricted_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return restricted_v4(embedded_v4(s[6], s[7]));
    }
    if s[..6] == [0; 6] {
        return Some("an IPv4-compatible address (deprecated, ::/96)");
    }
    if s[0] == 0x2002 {
        // 6to4: the IPv4 address is in the second and third groups.
        return restricted_v4(embedded_v4(s[1], s[2]));
    }
    Some(match s[0] {
        0xfd00 if s[1] == 0x0ec2 && s[2..7] == [0; 5] && s[7] == 0x254 => {
            "a cloud metadata address"
        }
        x if x & 0xfe00 == 0xfc00 => "a private (unique local) address",
        x if x & 0xffc0 == 0xfe80 => "a link-local address",
        x if x & 0xffc0 == 0xfec0 => "a site-local address",
        x if x & 0xff00 == 0xff00 => "a multicast address",
        0x2001 if s[1] == 0x0db8 => "a documentation address",
        0x0100 if s[1..4] == [0; 3] => "a discard address (100::/64)",
        _ => return None,
    })
}

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// A host name as compared: lower case, without the trailing dot of a fully qualified name.
fn normal_host(h: &str) -> String {
    h.trim_end_matches('.').to_ascii_lowercase()
}

/// A destination refused: the host as written and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("destination not allowed: {host} is {why}")]
pub struct Refused {
    pub host: String,
    pub why: String,
}

/// What is wrong with a destination URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    /// Not an http(s) URL with a host.
    #[error("not an http(s) URL: {0}")]
    Invalid(String),
    #[error(transparent)]
    NotAllowed(#[from] Refused),
}

/// The operator's exceptions for user-set destinations: networks (`10.1.0.0/16`,
/// `127.0.0.1/32`, `::1/128`; a bare address means that one address) and host names (exact,
/// case-insensitive). Read from `allow_destinations = [...]` in the notification
/// configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct AllowList {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
}

impl TryFrom<Vec<String>> for AllowList {
    type Error = String;

    fn try_from(entries: Vec<String>) -> Result<AllowList, String> {
        let mut out = AllowList::default();
        for e in entries {
            let t = e.trim();
            if t.contains('/') {
                let net: IpNet = t.parse().map_err(|_| {
                    format!(
                        "allow_destinations: `{t}` is not a network (e.g. 10.1.0.0/16, ::1/128)"
                    )
                })?;
                out.nets.push(net.trunc());
            } else if let Ok(ip) = t.trim_start_matches('[').trim_end_matches(']').parse() {
                out.nets.push(IpNet::from(canonical(ip)));
            } else if !t.is_empty()
                && t.len() <= 253
                && t.trim_end_matches('.').split('.').all(|l| {
                    !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
            {
                out.hosts.push(normal_host(t));
            } else {
                return Err(format!(
                    "allow_destinations: `{t}` is neither a network (CIDR) nor a host name"
                ));
            }
        }
        Ok(out)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it reaches.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl AllowList {
    /// Whether the list opens anything.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && self.hosts.is_empty()
    }

    /// Whether the operator allowed this host name.
    pub fn allows_host(&self, host: &str) -> bool {
        let h = normal_host(host);
        self.hosts.contains(&h)
    }

    /// Why `ip` may not be reached (`None`: it may): restricted and in no allowed network.
    pub fn refuses_ip(&self, ip: IpAddr) -> Option<&'static str> {
        let why = restricted(ip)?;
        let c = canonical(ip);
        if self.nets.iter().any(|n| n.contains(&ip) || n.contains(&c)) {
            None
        } else {
            Some(why)
        }
    }

    /// Checks a user-set destination URL when it is saved, without resolving it: an IP literal
    /// in a restricted range, a name of this machine (`localhost`, `*.localhost`, as
    /// 127.0.0.1) or of a metadata service (as 169.254.169.254), unless allowed. Other names
    /// are checked on what they resolve to, when connecting ([`GuardedResolver`]).
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, DestinationError> {
        self.check(url, true)
    }

    /// Checks a destination just before sending: an IP literal (reqwest connects to it without
    /// asking a resolver). Names, `localhost` too, are left to [`GuardedResolver`].
    pub fn check_before_send(&self, url: &str) -> Result<reqwest::Url, DestinationError> {
        self.check(url, false)
    }

    fn check(&self, url: &str, names: bool) -> Result<reqwest::Url, DestinationError> {
        let u = reqwest::Url::parse(url.trim())
            .map_err(|e| DestinationError::Invalid(format!("`{}`: {e}", url.trim())))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(DestinationError::Invalid(format!(
                "`{}`: the scheme is not http or https",
                url.trim()
            )));
        }
        let Some(host) = u.host_str() else {
            return Err(DestinationError::Invalid(format!(
                "`{}`: no host",
                url.trim()
            )));
        };
        let refused = |why: &str| {
            Err(DestinationError::NotAllowed(Refused {
                host: host.to_string(),
                why: why.into(),
            }))
        };
        // The URL parser writes an IPv4 host in dotted decimal (whatever the spelling:
        // 2130706433, 0x7f.1) and an IPv6 host in brackets.
        let literal: Option<IpAddr> = match host.strip_prefix('[') {
            Some(v6) => v6
                .trim_end_matches(']')
                .parse::<Ipv6Addr>()
                .ok()
                .map(IpAddr::V6),
            None => host.parse::<Ipv4Addr>().ok().map(IpAddr::V4),
        };
        if let Some(ip) = literal {
            return match self.refuses_ip(ip) {
                Some(why) => refused(why),
                None => Ok(u.clone()),
            };
        }
        let h = normal_host(host);
        if !names || self.allows_host(&h) {
            return Ok(u.clone());
        }
        let this_machine = h == "localhost" || h.ends_with(".localhost");
        if this_machine && self.refuses_ip(Ipv4Addr::LOCALHOST.into()).is_some() {
            refused("a name of this machine (loopback)")
        } else if METADATA_NAMES.contains(&h.as_str())
            && self
                .refuses_ip(Ipv4Addr::new(169, 254, 169, 254).into())
                .is_some()
        {
            refused("a cloud metadata service")
        } else {
            Ok(u.clone())
        }
    }
}

/// The resolver of the client that reaches user-set destinations: resolves like the system
/// does, then keeps only the addresses that may be reached (all of them for a host name the
/// operator allowed). A name with none left is refused with [`Refused`], which the sender
/// finds in the error's causes and records as a permanent failure.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow: Arc<AllowList>,
}

impl GuardedResolver {
    pub fn new(allow: Arc<AllowList>) -> GuardedResolver {
        GuardedResolver { allow }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow = self.allow.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if allow.allows_host(&host) {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let mut first_refused = None;
            let ok: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match allow.refuses_ip(a.ip()) {
                    None => true,
                    Some(why) => {
                        first_refused.get_or_insert((a.ip(), why));
                        false
                    }
                })
                .collect();
            match (ok.is_empty(), first_refused) {
                (true, Some((ip, why))) => Err(Box::new(Refused {
                    host: format!("{host} ({ip})"),
                    why: why.into(),
                }) as _),
                _ => Ok(Box::new(ok.into_iter()) as Addrs),
            }
        })
    }
}

/// The [`Refused`] among an error's causes, if a check refused the destination.
pub fn refused_in(e: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r.clone());
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> AllowList {
        AllowList::try_from(entries.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn restricted_ranges() {
        for a in [
            "127.0.0.1",
            "127.8.9.10",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.100.100.200",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "ff02::1",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert!(restricted(ip).is_some(), "{a} should be restricted");
        }
        for a in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "1.1.1.1",
            "2400:3200::1",
            "64:ff9b::808:808",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = a.parse().unwrap();
            assert_eq!(restricted(ip), None, "{a} is public");
        }
    }

    #[test]
    fn urls_checked_when_saved() {
        let none = AllowList::default();
        let no = |u: &str| matches!(none.check_url(u), Err(DestinationError::NotAllowed(_)));
        assert!(no("http://127.0.0.1:8080/hook"));
        assert!(no("http://[::1]/"));
        assert!(no("http://[::ffff:127.0.0.1]/"));
        assert!(no("http://169.254.169.254/latest/meta-data/"));
        assert!(no("http://localhost:5432/"));
        assert!(no("http://LOCALHOST./"));
        assert!(no("http://db.localhost/"));
        assert!(no("http://metadata.google.internal/"));
        // Other spellings of an IPv4 address are read as the address.
        assert!(no("http://2130706433/"));
        assert!(no("http://0x7f.1/"));
        assert!(no("http://0177.0.0.1/"));
        assert!(
            none.check_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k")
                .is_ok()
        );
        assert!(none.check_url("http://8.8.8.8:5432/").is_ok());
        assert!(matches!(
            none.check_url("ftp://example.org/"),
            Err(DestinationError::Invalid(_))
        ));
        let e = none.check_url("http://127.0.0.1:9/").unwrap_err();
        assert_eq!(
            e.to_string(),
            "destination not allowed: 127.0.0.1 is a loopback address"
        );

        // Names go to the resolver just before sending; literals do not.
        assert!(none.check_before_send("http://localhost:5432/").is_ok());
        assert!(none.check_before_send("http://127.0.0.1:5432/").is_err());
        assert!(none.check_before_send("http://[::1]:5432/").is_err());

        // Loopback allowed: `localhost` too.
        assert!(
            list(&["127.0.0.0/8"])
                .check_url("http://localhost:9/")
                .is_ok()
        );
        let some = list(&[
            "127.0.0.1/32",
            "::1/128",
            "10.1.0.0/16",
            "gateway.internal",
            "metadata",
        ]);
        assert!(some.check_url("http://127.0.0.1:8080/").is_ok());
        assert!(some.check_url("http://[::ffff:127.0.0.1]/").is_ok());
        assert!(some.check_url("http://[::1]/").is_ok());
        assert!(some.check_url("http://10.1.200.3/").is_ok());
        assert!(some.check_url("http://GATEWAY.internal./").is_ok());
        assert!(some.check_url("http://localhost:9/").is_ok());
        assert!(some.check_url("http://metadata/").is_ok());
        assert!(some.check_url("http://metadata.google.internal/").is_err());
        assert!(some.check_url("http://127.0.0.2/").is_err());
        assert!(some.check_url("http://10.2.0.1/").is_err());
    }

    #[test]
    fn allow_list_entries() {
        assert!(AllowList::try_from(vec!["10.0.0.0/33".to_string()]).is_err());
        assert!(AllowList::try_from(vec!["not a host".to_string()]).is_err());
        assert!(AllowList::try_from(vec!["".to_string()]).is_err());
        let l = list(&["127.0.0.1", "[::1]"]);
        assert_eq!(l.refuses_ip("127.0.0.1".parse().unwrap()), None);
        assert_eq!(l.refuses_ip("::1".parse().unwrap()), None);
        assert!(l.refuses_ip("127.0.0.2".parse().unwrap()).is_some());
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_restricted_addresses() {
        let r = GuardedResolver::new(Arc::new(AllowList::default()));
        let e = match r.resolve("localhost".parse().unwrap()).await {
            Err(e) => e,
            Ok(a) => panic!("resolved to {:?}", a.collect::<Vec<_>>()),
        };
        let refused = refused_in(&*e).expect("a Refused");
        assert!(refused.host.starts_with("localhost ("), "{refused:?}");
        let allowed = GuardedResolver::new(Arc::new(list(&["127.0.0.0/8", "::1/128"])));
        let addrs: Vec<SocketAddr> = allowed
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
    }
}
