//! Personal numbers typed into free text (issue 18 item 6): a mobile number in a grievance, an ID
//! number in a note. Free text goes into hash-chained events, which can never be changed or
//! erased, so such numbers are masked as the text is entered — the same masks the sealed
//! fields show (`139****1234`, `3301**********1234`) — and never stored in full. A petitioner's
//! contact and ID number belong in their own fields, which are sealed with the case's key and
//! erased by `yingji purge`.
//!
//! What counts: a run of digits (ASCII or full-width), not part of a longer run, that is a
//! mainland mobile number (11 digits starting 13–19, optionally grouped 3-4-4 by spaces or
//! hyphens), a landline with its area code (0 and 2–3 digits, a hyphen, 7–8 digits), or 15 to
//! 19 digits (an ID number — the 18th character may be X — or a bank card).

use crate::sealer::{mask_id_number, mask_phone};

fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

/// A personal number starting at `chars[i]` (which is a digit not preceded by one): its length
/// in chars and its mask.
fn number_at(chars: &[char], i: usize) -> Option<(usize, String)> {
    let at = |k: usize| chars.get(k).copied().and_then(digit);
    // A plain run of digits.
    let mut run = String::new();
    let mut j = i;
    while let Some(d) = at(j) {
        run.push(d);
        j += 1;
    }
    let x_end = matches!(chars.get(j), Some('X' | 'x' | 'Ｘ' | 'ｘ'));
    let ends = |k: usize| at(k).is_none();
    if run.len() == 17 && x_end && ends(j + 1) {
        return Some((18, mask_id_number(&format!("{run}X"))));
    }
    if (15..=19).contains(&run.len()) {
        return Some((run.len(), mask_id_number(&run)));
    }
    let mobile = |s: &str| {
        let b = s.as_bytes();
        s.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])
    };
    if mobile(&run) {
        return Some((11, mask_phone(&run)));
    }
    // 3-4-4 with one space or hyphen between the groups.
    if run.len() == 3 {
        let sep = |k: usize| matches!(chars.get(k), Some(' ' | '-' | '－'));
        let group = |from: usize, n: usize| -> Option<String> {
            let g: Option<String> = (from..from + n).map(at).collect();
            g.filter(|_| at(from + n).is_none())
        };
        if sep(i + 3)
            && let Some(g2) = group(i + 4, 4)
            && sep(i + 8)
            && let Some(g3) = group(i + 9, 4)
        {
            let all = format!("{run}{g2}{g3}");
            if mobile(&all) && ends(i + 13) {
                return Some((13, mask_phone(&all)));
            }
        }
    }
    // A landline: 0 and 2–3 digits, a hyphen, 7–8 digits.
    if (3..=4).contains(&run.len())
        && run.starts_with('0')
        && matches!(chars.get(i + run.len()), Some('-' | '－'))
    {
        let mut local = String::new();
        let mut k = i + run.len() + 1;
        while let Some(d) = at(k) {
            local.push(d);
            k += 1;
        }
        if (7..=8).contains(&local.len()) {
            return Some((k - i, format!("{run}-{}", mask_local(&local))));
        }
    }
    None
}

/// A landline's local number: its last four digits.
fn mask_local(n: &str) -> String {
    format!("{}{}", "*".repeat(n.len() - 4), &n[n.len() - 4..])
}

/// `text` with every personal number in it masked.
pub fn text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = digit(chars[i]).is_some() && (i == 0 || digit(chars[i - 1]).is_none());
        if starts && let Some((n, mask)) = number_at(&chars, i) {
            out.push_str(&mask);
            i += n;
            continue;
        }
        // Skip the rest of a digit run that is not a personal number.
        if starts {
            while i < chars.len() && digit(chars[i]).is_some() {
                out.push(chars[i]);
                i += 1;
            }
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Masks in place (an optional text).
pub fn opt(v: &mut Option<String>) {
    if let Some(s) = v {
        *s = text(s);
    }
}

/// Masks in place (a list of texts).
pub fn all(v: &mut [String]) {
    for s in v {
        *s = text(s);
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn personal_numbers_in_free_text_are_masked() {
        assert_eq!(
            text("请联系我13912345678，谢谢"),
            "请联系我139****5678，谢谢"
        );
        assert_eq!(text("电话 139 1234 5678。"), "电话 139****5678。");
        assert_eq!(text("电话139-1234-5678"), "电话139****5678");
        assert_eq!(text("全角１３９１２３４５６７８"), "全角139****5678");
        assert_eq!(
            text("身份证330100199001011234，"),
            "身份证3301**********1234，"
        );
        assert_eq!(text("身份证33010019900101123X"), "身份证3301**********123X");
        assert_eq!(text("座机0731-88881234"), "座机0731-****1234");
        assert_eq!(text("座机010-8888123"), "座机010-***8123");
        // Not personal numbers: counts, dates, amounts, longer or shorter runs.
        for s in [
            "约120人，2026年12月2日上午9时",
            "欠款1380000元",
            "编号12345678901234",
            "12345678901",
            "1391234567",
            "139123456789",
            "坐标39.9042,116.4074",
            "",
        ] {
            assert_eq!(text(s), s, "{s}");
        }
    }
}
