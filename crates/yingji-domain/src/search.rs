//! Search terms (pure): how a text is cut into the terms the search index holds and a query is
//! matched against. Chinese has no spaces, so a run of Chinese characters gives every pair of
//! neighbours (bigrams: 土地补偿 → 土地, 地补, 补偿), and a lone character itself; a run of
//! letters or digits is one term, lower-cased (case numbers, years, ids). A query matches a
//! record holding all of the query's terms.

use std::collections::BTreeSet;

/// At most this many terms are kept from one text (a long grievance is still found by its
/// first thousand characters or so).
pub const MAX_TERMS: usize = 1000;

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

/// The terms of a text.
pub fn terms(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_run = |run: &mut Vec<char>, out: &mut BTreeSet<String>| {
        if run.len() == 1 {
            out.insert(run[0].to_string());
        }
        for w in run.windows(2) {
            out.insert(w.iter().collect());
        }
        run.clear();
    };
    let flush_word = |word: &mut String, out: &mut BTreeSet<String>| {
        if !word.is_empty() {
            out.insert(word.chars().take(32).collect());
        }
        word.clear();
    };
    for c in text.chars().flat_map(char::to_lowercase) {
        if out.len() >= MAX_TERMS {
            break;
        }
        if is_cjk(c) {
            flush_word(&mut word, &mut out);
            run.push(c);
        } else if c.is_alphanumeric() {
            flush_run(&mut run, &mut out);
            word.push(c);
        } else {
            flush_run(&mut run, &mut out);
            flush_word(&mut word, &mut out);
        }
    }
    flush_run(&mut run, &mut out);
    flush_word(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Vec<String> {
        terms(s).into_iter().collect()
    }

    #[test]
    fn chinese_gives_neighbouring_pairs() {
        assert_eq!(t("土地补偿"), ["土地", "地补", "补偿"]);
        assert_eq!(t("号"), ["号"]);
    }

    #[test]
    fn a_case_number_cuts_at_brackets_and_digits() {
        let got = terms("临溪市信〔2026〕12号");
        for want in ["临溪", "溪市", "市信", "2026", "12", "号"] {
            assert!(got.contains(want), "{want} in {got:?}");
        }
        // The query of the whole number holds only terms of the number.
        assert!(terms("〔2026〕12号").is_subset(&got));
    }

    #[test]
    fn latin_is_one_lower_case_term() {
        assert_eq!(t("ABC-12 x"), ["12", "abc", "x"]);
    }

    #[test]
    fn a_query_inside_a_text_is_found() {
        let text = terms("要求公开土地补偿标准，按时发放补偿款");
        assert!(terms("补偿标准").is_subset(&text));
        assert!(!terms("拆迁补偿").is_subset(&text));
    }
}
