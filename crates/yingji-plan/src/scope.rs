//! The scope yingji enforces: the one vocabulary of measures it does not build
//! (`shared/design/product.md`, "Scope decision"; `docs/plan-format.md` §9).
//!
//! Petitioning is a lawful right. yingji builds no workflow, form, field, list or report for
//! registering, tracking, watching, intercepting, escorting back or holding individual
//! petitioners. A plan whose intake fields, tasks, schedules, upward reports or coercive steps
//! would make the engine act on such a measure is refused: `plan check` and plan upload report
//! an error with the category's code (P0501–P0507), at the value, naming the term.
//!
//! The terms are chosen so that ordinary plan text is not refused: 劝导, 疏导, 接待, 接访, 稳定,
//! 化解, 现场处置, 交通管制, 维护秩序, 劝阻, 去向 (where a crowd is heading: plans grade by it),
//! 控制事态 are not terms. Comments, `duties`, `description`, `judgement`, `principles` and a
//! field's `help` are descriptive text and are not checked: a plan may quote its source there.

use crate::diag::{Code, Diagnostic, Span};

/// A category of excluded measures; each has its own diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Registering or listing individual petitioners (重点人员 registers, 一人一档).
    Register,
    /// Tracking people's whereabouts (行踪, 轨迹).
    Track,
    /// Watching people (人盯人, 稳控, 看护).
    Watch,
    /// Intercepting people on their way to petition (拦截, 劝返, 接返, 截访).
    Intercept,
    /// Escorting or bringing people back (带回, 押送, 送返).
    Escort,
    /// Holding people (训诫, 看管, 控制在家).
    Hold,
    /// Collecting identity-card numbers in a form (身份证号). Checked in intake fields and in the
    /// fields of scheduled and upward reports only.
    Identity,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Register,
        Category::Track,
        Category::Watch,
        Category::Intercept,
        Category::Escort,
        Category::Hold,
        Category::Identity,
    ];

    pub fn code(self) -> Code {
        match self {
            Category::Register => Code::ScopeRegister,
            Category::Track => Code::ScopeTrack,
            Category::Watch => Code::ScopeWatch,
            Category::Intercept => Code::ScopeIntercept,
            Category::Escort => Code::ScopeEscort,
            Category::Hold => Code::ScopeHold,
            Category::Identity => Code::ScopeIdentity,
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            Category::Register => "registering or listing individual petitioners",
            Category::Track => "tracking people's whereabouts",
            Category::Watch => "watching people",
            Category::Intercept => "intercepting people on their way to petition",
            Category::Escort => "escorting or bringing people back",
            Category::Hold => "holding people or restricting their freedom",
            Category::Identity => "collecting identity-card numbers",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Category::Register => "登记、列管上访人员",
            Category::Track => "掌握人员行踪",
            Category::Watch => "盯守、稳控人员",
            Category::Intercept => "拦截、劝返上访人员",
            Category::Escort => "带回、押送人员",
            Category::Hold => "训诫、看管或限制人身自由",
            Category::Identity => "采集身份证号码",
        }
    }
}

/// One term of the vocabulary. Chinese terms match anywhere in the text; English terms match
/// whole words, case-insensitively, with `_`, `-` and `.` read as spaces (so that field ids such
/// as `key_person_name` match `key person`), and allow an `s`, `es`, `d`, `ed` or `ing` ending.
#[derive(Debug, Clone, Copy)]
pub struct Term {
    pub text: &'static str,
    pub category: Category,
}

const fn t(text: &'static str, category: Category) -> Term {
    Term { text, category }
}

use Category::*;

/// The vocabulary. `docs/plan-format.md` §9 lists the same terms; a test keeps the two equal.
pub const TERMS: &[Term] = &[
    // Register / 登记列管
    t("重点人员", Register),
    t("重点人物", Register),
    t("重点上访", Register),
    t("重点信访", Register),
    t("上访人员名单", Register),
    t("上访人名单", Register),
    t("信访人员名单", Register),
    t("信访人名单", Register),
    t("上访人员花名册", Register),
    t("一人一档", Register),
    t("建档管控", Register),
    t("黑名单", Register),
    t("key person", Register),
    t("key people", Register),
    t("key individual", Register),
    t("key petitioner", Register),
    t("person of interest", Register),
    t("persons of interest", Register),
    t("petitioner list", Register),
    t("list of petitioners", Register),
    t("petitioner register", Register),
    t("register of petitioners", Register),
    t("blacklist", Register),
    t("watch list", Register),
    t("watchlist", Register),
    // Track / 行踪
    t("行踪", Track),
    t("人员去向", Track),
    t("个人去向", Track),
    t("人员动向", Track),
    t("个人动向", Track),
    t("思想动向", Track),
    t("人员动态", Track),
    t("轨迹", Track),
    t("手机定位", Track),
    t("实时定位", Track),
    t("定位跟踪", Track),
    t("跟踪上访", Track),
    t("跟踪人员", Track),
    t("whereabouts", Track),
    t("location tracking", Track),
    t("track location", Track),
    t("track petitioner", Track),
    t("track individual", Track),
    t("track person", Track),
    t("tracking petitioner", Track),
    t("geolocation", Track),
    t("gps", Track),
    // Watch / 盯守
    t("人盯人", Watch),
    t("盯人", Watch),
    t("盯防", Watch),
    t("盯守", Watch),
    t("盯控", Watch),
    t("稳控", Watch),
    t("看护", Watch),
    t("看守", Watch),
    t("监控", Watch),
    t("监视", Watch),
    t("监听", Watch),
    t("蹲守", Watch),
    t("布控", Watch),
    t("surveil", Watch),
    t("surveillance", Watch),
    t("watch over", Watch),
    t("keep watch", Watch),
    t("keep under watch", Watch),
    t("man to man", Watch),
    t("stake out", Watch),
    t("stability control", Watch),
    // Intercept / 拦截
    t("拦截", Intercept),
    t("截访", Intercept),
    t("拦访", Intercept),
    t("堵访", Intercept),
    t("劝返", Intercept),
    t("接返", Intercept),
    t("劝回", Intercept),
    t("接回", Intercept),
    t("intercept", Intercept),
    t("interception", Intercept),
    t("persuade to return", Intercept),
    t("persuade them to return", Intercept),
    t("turn back petitioner", Intercept),
    t("stop petitioner", Intercept),
    // Escort / 带回
    t("带回", Escort),
    t("押送", Escort),
    t("押解", Escort),
    t("护送回", Escort),
    t("送返", Escort),
    t("遣返", Escort),
    t("领回", Escort),
    t("escort", Escort),
    t("bring back", Escort),
    t("bring them back", Escort),
    t("brought back", Escort),
    t("send back", Escort),
    t("sent back", Escort),
    t("repatriate", Escort),
    // Hold / 训诫、看管
    t("训诫", Hold),
    t("看管", Hold),
    t("控制在家", Hold),
    t("在家控制", Hold),
    t("限制人身自由", Hold),
    t("限制出行", Hold),
    t("限制外出", Hold),
    t("留置", Hold),
    t("关押", Hold),
    t("软禁", Hold),
    t("学习班", Hold),
    t("detain", Hold),
    t("detention", Hold),
    t("admonish", Hold),
    t("admonition", Hold),
    t("keep at home", Hold),
    t("kept at home", Hold),
    t("house arrest", Hold),
    t("confine", Hold),
    t("confinement", Hold),
    // Identity / 身份证号
    t("身份证", Identity),
    t("身份号码", Identity),
    t("证件号", Identity),
    t("id number", Identity),
    t("id no", Identity),
    t("id card", Identity),
    t("identity number", Identity),
    t("identity card", Identity),
    t("national id", Identity),
    t("passport number", Identity),
];

/// Ordinary phrases that contain a term but describe what a crowd does, not a measure against
/// people: a match inside one of them is not a match.
pub const ALLOWED: &[&str] = &[
    "拦截车辆",
    "拦截公务车辆",
    "拦截领导车辆",
    "拦截过往车辆",
    "拦截列车",
    "拦截车",
];

/// A term found in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub term: &'static str,
    pub category: Category,
    /// Byte offset of the match in the text.
    pub at: usize,
}

const ENDINGS: [&str; 6] = ["", "s", "es", "d", "ed", "ing"];

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Every term found in `text`, by position (where terms overlap, the one that starts first,
/// the longest there).
/// `identity` says whether identity-number terms count here.
pub fn scan(text: &str, identity: bool) -> Vec<Match> {
    // ASCII-lowercased with `_`, `-`, `.` as spaces: the same byte length as the text.
    let folded: String = text
        .chars()
        .map(|c| match c {
            '_' | '-' | '.' => ' ',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    let bytes = folded.as_bytes();
    let allowed: Vec<Span> = ALLOWED
        .iter()
        .flat_map(|a| folded.match_indices(a).map(|(i, s)| i..i + s.len()))
        .collect();
    let mut found: Vec<(Match, usize)> = Vec::new();
    for term in TERMS {
        if term.category == Category::Identity && !identity {
            continue;
        }
        let ascii = term.text.is_ascii();
        for (i, _) in folded.match_indices(term.text) {
            let mut end = i + term.text.len();
            if ascii {
                if i > 0 && is_word(bytes[i - 1]) {
                    continue;
                }
                let Some(ending) = ENDINGS.iter().find(|e| {
                    folded[end..].starts_with(**e)
                        && bytes.get(end + e.len()).is_none_or(|b| !is_word(*b))
                }) else {
                    continue;
                };
                end += ending.len();
            }
            if allowed.iter().any(|a| a.start <= i && end <= a.end) {
                continue;
            }
            found.push((
                Match {
                    term: term.text,
                    category: term.category,
                    at: i,
                },
                end,
            ));
        }
    }
    // By position; at one position the longest term, and nothing inside a match already
    // taken (`人盯人` holds `盯人`).
    found.sort_by_key(|(m, end)| (m.at, std::cmp::Reverse(*end)));
    let mut taken_to = 0;
    let mut out = Vec::new();
    for (m, end) in found {
        if m.at >= taken_to {
            taken_to = end;
            out.push(m);
        }
    }
    out
}

/// One value of a plan to check: what it is (`intake field label`), its text and where it is
/// written.
pub struct Value<'a> {
    pub what: &'a str,
    pub text: &'a str,
    pub span: Span,
}

/// Checks the values of one item of a plan (an intake field, a task, a schedule, a report, a
/// coercive step) and answers at most one diagnostic: the first value, in the order given,
/// that holds a term. An item is one defect — removing it is the fix — so its other values
/// are not reported again; the message lists every term the value holds.
pub fn check_item(values: &[Value<'_>], identity: bool) -> Option<Diagnostic> {
    values.iter().find_map(|v| {
        let found = scan(v.text, identity);
        let first = *found.first()?;
        let mut others: Vec<String> = Vec::new();
        for m in &found[1..] {
            let s = format!("“{}” ({})", m.term, m.category.en());
            if !others.contains(&s) {
                others.push(s);
            }
        }
        let also = if others.is_empty() {
            String::new()
        } else {
            format!("; also {}", others.join(", "))
        };
        let c = first.category;
        Some(
            Diagnostic::new(
                c.code(),
                v.span.clone(),
                format!(
                    "{} “{}” asks for {} ({}), which yingji does not do: term “{}”{also}",
                    v.what, v.text, c.en(), c.zh(), first.term
                ),
            )
            .label(format!("“{}”: {} / {}", first.term, c.en(), c.zh()))
            .help(
                "yingji builds no workflow, field, list or report for measures aimed at individual petitioners \
                 (docs/plan-format.md §9); remove it, or write what the engine does instead: reception (接访), \
                 the grievances heard, care given, replies owed. \
                 本系统不提供针对上访人员个人的登记、跟踪、盯守、拦截、带回、看管等功能，请删除该项，或改写为接访、听取诉求、答复等工作",
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats(text: &str) -> Vec<Category> {
        scan(text, true).iter().map(|m| m.category).collect()
    }

    #[test]
    fn chinese_terms_match_by_category() {
        assert_eq!(cats("重点人员姓名"), vec![Register]);
        assert_eq!(cats("当日行踪"), vec![Track]);
        assert_eq!(cats("人盯人稳控在家"), vec![Watch, Watch]);
        assert_eq!(
            cats("赴京接返，带回本地训诫"),
            vec![Intercept, Escort, Hold]
        );
        assert_eq!(cats("公民身份证号码"), vec![Identity]);
        assert!(scan("公民身份证号码", false).is_empty());
    }

    #[test]
    fn english_terms_match_whole_words_and_ids() {
        assert_eq!(cats("Key persons' names"), vec![Register]);
        assert_eq!(cats("key_person_name"), vec![Register]);
        assert_eq!(cats("Daily whereabouts report"), vec![Track]);
        assert_eq!(cats("intercepted at the station"), vec![Intercept]);
        assert_eq!(cats("escorting them home"), vec![Escort]);
        assert_eq!(cats("detained for admonition"), vec![Hold, Hold]);
        assert_eq!(cats("id_number"), vec![Identity]);
        // Not inside other words.
        assert!(cats("key personnel on duty").is_empty());
        assert!(cats("gpsx").is_empty());
        assert!(cats("confinemental").is_empty());
    }

    #[test]
    fn the_longest_term_wins_at_a_position() {
        let m = scan("persons of interest", true);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].term, "persons of interest");
    }

    #[test]
    fn ordinary_plan_text_is_not_flagged() {
        for text in [
            "劝导群众到接待场所反映诉求",
            "疏导化解矛盾",
            "做好信访接待工作",
            "接访对话，听取诉求",
            "维护信访稳定",
            "化解矛盾纠纷",
            "现场处置",
            "实行交通管制",
            "在现场维护秩序",
            "劝阻、批评和教育无效的，请公安机关依法处置",
            "上访去向",
            "去向",
            "控制事态的蔓延和扩大",
            "堵塞、阻断交通或拦截公务车辆",
            "为老弱病残人员提供饮水、食物和医疗救助",
            "Receive the petitioners and hear their grievances",
            "Keep order at the scene; traffic control",
            "Track the reply owed and its deadline",
            "Key personnel of the office attend",
        ] {
            assert!(
                scan(text, true).is_empty(),
                "{text}: {:?}",
                scan(text, true)
            );
        }
    }

    #[test]
    fn every_category_has_chinese_and_english_terms() {
        for c in Category::ALL {
            let terms: Vec<&Term> = TERMS.iter().filter(|t| t.category == c).collect();
            assert!(
                terms.iter().any(|t| !t.text.is_ascii()),
                "{c:?} has no Chinese term"
            );
            assert!(
                terms.iter().any(|t| t.text.is_ascii()),
                "{c:?} has no English term"
            );
            assert!(
                terms.iter().all(|t| t.text == t.text.to_ascii_lowercase()),
                "{c:?}: English terms are written lower-case"
            );
        }
    }
}
