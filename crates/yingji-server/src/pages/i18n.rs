//! The console's message catalogue: every user-visible string, zh-CN by default and English,
//! from `locales/{zh-CN,en}.toml` embedded at compile time. Keys are dotted paths of the TOML
//! tables (`[desk] title = …` is `desk.title`). A missing key shows the key itself, and a test
//! checks that both catalogues have every key the templates and code use.

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::LazyLock;

pub struct Lang {
    /// The code used in `?lang=`, the cookie and `<html lang>`.
    pub code: &'static str,
    map: HashMap<String, String>,
}

const SOURCES: &[(&str, &str)] = &[
    ("zh-CN", include_str!("../../locales/zh-CN.toml")),
    ("en", include_str!("../../locales/en.toml")),
];

static LANGS: LazyLock<Vec<Lang>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(code, text)| Lang {
            code,
            map: flatten(text),
        })
        .collect()
});

/// The catalogue's keys and texts, flattened.
pub fn flatten(text: &str) -> HashMap<String, String> {
    use toml::de::{DeTable, DeValue};
    fn walk(prefix: &str, t: &DeTable<'_>, out: &mut HashMap<String, String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            match v.get_ref() {
                DeValue::Table(t) => walk(&key, t, out),
                DeValue::String(s) => {
                    out.insert(key, s.to_string());
                }
                _ => panic!("message catalogue: `{key}` must be a string"),
            }
        }
    }
    let doc = DeTable::parse(text).expect("the message catalogue is valid TOML");
    let mut out = HashMap::new();
    walk("", doc.get_ref(), &mut out);
    out
}

/// The raw catalogue sources, for tests.
pub fn sources() -> &'static [(&'static str, &'static str)] {
    SOURCES
}

impl Lang {
    /// The default language (zh-CN).
    pub fn default_lang() -> &'static Lang {
        &LANGS[0]
    }

    pub fn all() -> &'static [Lang] {
        &LANGS
    }

    pub fn by_code(code: &str) -> Option<&'static Lang> {
        let c = code.trim().to_ascii_lowercase();
        LANGS.iter().find(|l| {
            let lc = l.code.to_ascii_lowercase();
            c == lc || c.split('-').next() == lc.split('-').next()
        })
    }

    /// The first supported language of an Accept-Language header.
    pub fn from_accept(header: &str) -> Option<&'static Lang> {
        let mut prefs: Vec<(f32, &str)> = header
            .split(',')
            .filter_map(|part| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                (!tag.is_empty() && tag != "*").then_some((q, tag))
            })
            .collect();
        prefs.sort_by(|a, b| b.0.total_cmp(&a.0));
        prefs.into_iter().find_map(|(_, t)| Lang::by_code(t))
    }

    /// The text for a key.
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.map.get(key).map_or(key, String::as_str)
    }

    /// The text for `group.value` (a status, a task state, an event kind…).
    pub fn tk(&self, group: &str, value: &str) -> String {
        let key = format!("{group}.{value}");
        match self.map.get(&key) {
            Some(s) => s.clone(),
            None => value.to_string(),
        }
    }

    /// The text for a key with `{0}` replaced.
    pub fn f1(&self, key: &str, a: impl Display) -> String {
        self.t(key).replace("{0}", &a.to_string())
    }

    /// The text for a key with `{0}` and `{1}` replaced.
    pub fn f2(&self, key: &str, a: impl Display, b: impl Display) -> String {
        self.t(key)
            .replace("{0}", &a.to_string())
            .replace("{1}", &b.to_string())
    }

    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// A duration in minutes, as people say it ("3 小时 5 分钟" / "3 h 5 min").
    pub fn minutes(&self, mins: i64) -> String {
        let m = mins.abs();
        if m == 0 {
            self.t("time.under_minute").to_string()
        } else if m >= 60 * 24 && (m % (60 * 24)) / 60 == 0 {
            self.f1("time.days", m / (60 * 24))
        } else if m >= 60 * 24 {
            self.f2("time.days_hours", m / (60 * 24), (m % (60 * 24)) / 60)
        } else if m >= 60 && m % 60 == 0 {
            self.f1("time.hours", m / 60)
        } else if m >= 60 {
            self.f2("time.hours_minutes", m / 60, m % 60)
        } else {
            self.f1("time.minutes", m)
        }
    }
}
