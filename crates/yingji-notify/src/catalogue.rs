//! The notice catalogue: the subject and text of every notice, per language, from
//! `locales/{zh-CN,en}.toml` (embedded). zh-CN is the default; a language the catalogue does
//! not know falls back to it, and so does a key missing in a language. Rust code holds no
//! notice wording.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The default language of notices.
pub const DEFAULT_LANGUAGE: &str = "zh-CN";

/// The languages the catalogue has.
pub const LANGUAGES: &[&str] = &["zh-CN", "en"];

type Table = BTreeMap<String, BTreeMap<String, String>>;

static CATALOGUES: LazyLock<BTreeMap<&'static str, Table>> = LazyLock::new(|| {
    [
        ("zh-CN", include_str!("../locales/zh-CN.toml")),
        ("en", include_str!("../locales/en.toml")),
    ]
    .into_iter()
    .map(|(l, src)| (l, toml::from_str(src).expect("the notice catalogue parses")))
    .collect()
});

/// The language to write in: `lang` when the catalogue has it, else the default.
pub fn language(lang: Option<&str>) -> &'static str {
    lang.and_then(|l| {
        LANGUAGES
            .iter()
            .copied()
            .find(|x| x.eq_ignore_ascii_case(l))
    })
    .unwrap_or(DEFAULT_LANGUAGE)
}

/// One entry (`section.key`) in `lang`, or in the default language; the key itself when
/// neither has it (a test fails on that, see `every_key_in_both`).
pub fn word(lang: &str, section: &str, key: &str) -> String {
    [language(Some(lang)), DEFAULT_LANGUAGE]
        .iter()
        .find_map(|l| CATALOGUES.get(l)?.get(section)?.get(key).cloned())
        .unwrap_or_else(|| format!("{section}.{key}"))
}

/// Fills `{name}` placeholders.
pub fn fill(template: &str, args: &[(&str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in args {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

/// The subject and text of notice `key` in `lang`, filled, with the drill mark when `drill`.
pub fn render(lang: &str, key: &str, args: &[(&str, String)], drill: bool) -> (String, String) {
    (
        crate::mark_drill(&fill(&word(lang, key, "subject"), args), drill),
        crate::mark_drill(&fill(&word(lang, key, "text"), args), drill),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_in_both() {
        let keys = |l: &str| -> Vec<String> {
            CATALOGUES[l]
                .iter()
                .flat_map(|(s, t)| t.keys().map(move |k| format!("{s}.{k}")))
                .collect()
        };
        assert_eq!(keys("zh-CN"), keys("en"));
    }

    #[test]
    fn renders_in_the_language_asked_with_the_drill_mark() {
        let args = [
            ("incident", "X".to_string()),
            ("task", "T".into()),
            ("due", "D".into()),
        ];
        let (s, t) = render("en", "task_overdue", &args, true);
        assert_eq!(s, "【演练】Task overdue: X");
        assert!(t.contains("\"T\"") && t.contains("(D)"), "{t}");
        let (s, _) = render("fr", "task_overdue", &args, false);
        assert_eq!(s, "任务超时：X");
    }
}
